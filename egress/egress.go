package egress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DeniedError is the error of a dial the policy refused. Its message is
// all an activation learns: nothing of the far end.
type DeniedError struct {
	// Addr is the resolved address, or the network address as given when
	// it is not an IP address and port (a unix socket).
	Addr string
}

func (e *DeniedError) Error() string { return "egress to " + e.Addr + " denied by policy" }

// Policy decides which addresses a tenant's connections may reach. The
// nil Policy is the default one: no allow list, nothing protected or
// opened. Its methods are safe for concurrent use.
type Policy struct {
	allow []netip.Prefix // read-only after New

	mu sync.RWMutex // guards own and open
	// own are Wisp's store and bus: denied even inside an allowed prefix.
	own map[netip.AddrPort]bool
	// open are Wisp's own services meant for tenants (the embedded MQTT
	// broker): reachable although denied by range.
	open map[netip.AddrPort]bool
}

// New returns a policy that also lets through the addresses in allow.
func New(allow ...netip.Prefix) *Policy {
	p := &Policy{own: map[netip.AddrPort]bool{}, open: map[netip.AddrPort]bool{}}
	for _, a := range allow {
		p.allow = append(p.allow, netip.PrefixFrom(a.Addr().Unmap(), unmappedBits(a)).Masked())
	}
	return p
}

// unmappedBits is the prefix length of a once unmapped (::ffff:10.0.0.0/104
// is 10.0.0.0/8).
func unmappedBits(a netip.Prefix) int {
	if a.Addr().Is4In6() {
		return max(a.Bits()-96, 0)
	}
	return a.Bits()
}

// ParseAllow parses a comma-separated list of CIDR prefixes; a bare
// address stands for itself alone (/32 or /128). Errors name the entry.
func ParseAllow(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("egress-allow: %q is not a CIDR prefix (10.1.0.0/16, fd00::/8) nor an address", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("egress-allow: %q is not a CIDR prefix (10.1.0.0/16, fd00::/8)", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// normal is a with IPv4-mapped IPv6 unmapped and no zone, the form every
// comparison uses (::ffff:127.0.0.1 is 127.0.0.1).
func normal(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
}

// Protect denies the addresses hostport (host:port) resolves to now,
// even where the allow list opens them: Wisp's store and bus.
func (p *Policy) Protect(ctx context.Context, hostport string) error {
	addrs, err := resolve(ctx, hostport)
	if err != nil {
		return fmt.Errorf("egress: resolve %s to protect it: %w", hostport, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range addrs {
		p.own[a] = true
	}
	return nil
}

// Open lets tenants reach addr although its range is denied: a service of
// Wisp's own, the embedded MQTT broker. An unspecified host (0.0.0.0, ::)
// opens the port on the loopback addresses only.
func (p *Policy) Open(addr netip.AddrPort) {
	addr = normal(addr)
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr.Addr().IsUnspecified() {
		p.open[netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), addr.Port())] = true
		p.open[netip.AddrPortFrom(netip.IPv6Loopback(), addr.Port())] = true
		return
	}
	p.open[addr] = true
}

// Check returns a *DeniedError when the policy refuses addr, nil when it
// lets it through. Wisp's own store and bus are refused first, then its
// open services and the allow list let through, then the denied ranges
// refuse.
func (p *Policy) Check(addr netip.AddrPort) error {
	addr = normal(addr)
	if p != nil {
		p.mu.RLock()
		own, open := p.own[addr], p.open[addr]
		p.mu.RUnlock()
		switch {
		case own:
			return &DeniedError{Addr: addr.String()}
		case open:
			return nil
		}
		for _, a := range p.allow {
			if a.Contains(addr.Addr()) {
				return nil
			}
		}
	}
	if denied(addr.Addr()) {
		return &DeniedError{Addr: addr.String()}
	}
	return nil
}

// Control is a net.Dialer Control func: it checks the resolved address
// of each connection attempt before it connects.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	addr, err := netip.ParseAddrPort(address)
	if err != nil || !strings.HasPrefix(network, "tcp") && !strings.HasPrefix(network, "udp") {
		return &DeniedError{Addr: address} // a unix socket, or not an IP
	}
	return p.Check(addr)
}

// Dialer returns a dialer that checks every address it connects to.
func (p *Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.Control}
}

// Transport returns an HTTP transport whose connections pass the policy.
// It uses no proxy: a proxy would reach on a tenant's behalf what the
// policy denies.
func (p *Policy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.Dialer().DialContext
	return t
}

// HTTPClient returns a client over Transport with a whole-request timeout.
func (p *Policy) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(), Timeout: timeout}
}

// resolve returns the addresses of host:port, normalised.
func resolve(ctx context.Context, hostport string) ([]netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	pn, err := net.DefaultResolver.LookupPort(ctx, "tcp", port)
	if err != nil {
		return nil, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		out = append(out, normal(netip.AddrPortFrom(ip, uint16(pn))))
	}
	return out, nil
}
