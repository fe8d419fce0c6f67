package server

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/wispio/wisp/egress"
)

// newEgress is the policy of the tenants' outbound connections (builtin
// actions and feeds): cfg.EgressAllow opens prefixes, and the store's and
// the bus's addresses are protected even inside them. An address that
// does not resolve now is logged and left out (its server is not
// reachable now either).
func newEgress(ctx context.Context, cfg Config, log *slog.Logger) *egress.Policy {
	p := egress.New(cfg.EgressAllow...)
	var own []string
	if cfg.StoreURL != "" {
		own = append(own, ownHostPort(cfg.StoreURL, map[string]string{"http": "80", "https": "443", "couchdb": "5984", "couchdbs": "6984"}))
	}
	if cfg.Cluster.BusURL != "" {
		for _, u := range strings.Split(cfg.Cluster.BusURL, ",") {
			own = append(own, ownHostPort(strings.TrimSpace(u), map[string]string{"nats": "4222", "tls": "4222"}))
		}
	}
	for _, hp := range own {
		if hp == "" {
			continue
		}
		if err := p.Protect(ctx, hp); err != nil {
			log.Warn("egress: cannot protect an address of the store or bus", "addr", hp, "err", err)
		}
	}
	return p
}

// ownHostPort is the host:port of a store or bus URL (no credentials),
// with the scheme's default port; "" when it does not parse.
func ownHostPort(raw string, ports map[string]string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		if port = ports[u.Scheme]; port == "" {
			return ""
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// openBroker lets tenants reach the embedded MQTT broker, Wisp's own,
// although its address (loopback, say) is denied by range.
func openBroker(p *egress.Policy, addr net.Addr) {
	if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		p.Open(ap)
	}
}
