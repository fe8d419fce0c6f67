package egress

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

func TestCheck(t *testing.T) {
	allowLoopback := New(netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.0.0/16"))
	for _, tc := range []struct {
		name   string
		policy *Policy
		addr   string
		denied bool
	}{
		{"loopback", nil, "127.0.0.1:5984", true},
		{"loopback range", nil, "127.8.9.10:80", true},
		{"ipv6 loopback", nil, "[::1]:4222", true},
		{"ipv4-mapped loopback", nil, "[::ffff:127.0.0.1]:80", true},
		{"cloud metadata", nil, "169.254.169.254:80", true},
		{"ipv6 link-local", nil, "[fe80::1%eth0]:80", true},
		{"10/8", nil, "10.0.0.1:80", true},
		{"172.16/12", nil, "172.31.255.255:80", true},
		{"192.168/16", nil, "192.168.1.1:80", true},
		{"unique local", nil, "[fd00::1]:80", true},
		{"cgnat", nil, "100.64.0.1:80", true},
		{"this network", nil, "0.1.2.3:80", true},
		{"unspecified", nil, "0.0.0.0:80", true},
		{"ipv6 unspecified", nil, "[::]:80", true},
		{"multicast", nil, "224.0.0.1:80", true},
		{"ipv6 multicast", nil, "[ff02::1]:80", true},
		{"broadcast", nil, "255.255.255.255:80", true},
		{"nat64 of loopback", nil, "[64:ff9b::7f00:1]:80", true},
		{"public", nil, "93.184.215.14:443", false},
		{"public ipv6", nil, "[2606:4700::1111]:443", false},
		{"nat64 of public", nil, "[64:ff9b::5db8:d70e]:443", false},
		{"172.32 is public", nil, "172.32.0.1:80", false},
		{"allowed loopback", allowLoopback, "127.0.0.1:5984", false},
		{"allowed mapped loopback", allowLoopback, "[::ffff:127.0.0.1]:5984", false},
		{"allowed private range", allowLoopback, "10.1.2.3:80", false},
		{"outside the allowed range", allowLoopback, "10.2.0.1:80", true},
		{"allowed v4 does not open ::1", allowLoopback, "[::1]:5984", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := netip.MustParseAddrPort(tc.addr)
			err := tc.policy.Check(addr)
			if !tc.denied {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", addr, err)
				}
				return
			}
			want := "egress to " + normal(addr).String() + " denied by policy"
			var de *DeniedError
			if !errors.As(err, &de) || err.Error() != want {
				t.Fatalf("Check(%s) = %v, want %q", addr, err, want)
			}
		})
	}
}

func TestProtectAndOpen(t *testing.T) {
	p := New(netip.MustParsePrefix("127.0.0.0/8"))
	if err := p.Protect(context.Background(), "127.0.0.1:5984"); err != nil {
		t.Fatal(err)
	}
	p.Open(netip.MustParseAddrPort("[::]:1883"))
	p.Open(netip.MustParseAddrPort("10.9.9.9:1883"))
	for _, tc := range []struct {
		addr   string
		denied bool
	}{
		{"127.0.0.1:5984", true},          // the store, although 127/8 is allowed
		{"[::ffff:127.0.0.1]:5984", true}, // the same, mapped
		{"127.0.0.1:5985", false},         // another port of the allowed range
		{"127.0.0.1:1883", false},         // the broker on all interfaces
		{"[::1]:1883", false},             // the same, IPv6
		{"[::1]:1884", true},              // not the broker
		{"10.9.9.9:1883", false},          // the broker on one address
		{"10.9.9.8:1883", true},           // not the broker
	} {
		err := p.Check(netip.MustParseAddrPort(tc.addr))
		if (err != nil) != tc.denied {
			t.Errorf("Check(%s) = %v, want denied %v", tc.addr, err, tc.denied)
		}
	}
}

func TestParseAllow(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "127.0.0.1/32, 10.0.0.0/8", want: "127.0.0.1/32 10.0.0.0/8"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "192.168.1.5", want: "192.168.1.5/32"},
		{in: "fd00::/8,::1", want: "fd00::/8 ::1/128"},
		{in: "", want: ""},
		{in: "10.0.0.0/33", err: `egress-allow: "10.0.0.0/33" is not a CIDR prefix`},
		{in: "example.com", err: `egress-allow: "example.com" is not a CIDR prefix`},
	} {
		got, err := ParseAllow(tc.in)
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("ParseAllow(%q) = %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if err != nil || strings.Join(s, " ") != tc.want {
			t.Errorf("ParseAllow(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}

// TestHTTPClientDialsThroughThePolicy makes real requests to a server on
// loopback: by address and by a host name that resolves there, the
// default policy refuses before connecting, and the error says only the
// policy's message; the allow list lets the same request through.
func TestHTTPClientDialsThroughThePolicy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "far-end secret")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	v6, err := net.Listen("tcp", "[::1]:0")
	if err == nil {
		defer v6.Close()
		go func() { _ = http.Serve(v6, srv.Config.Handler) }()
	}
	allowed := New(netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"))
	type request struct {
		name   string
		url    string
		denied []string // the messages it may fail with
	}
	reqs := []request{
		{"loopback", "http://127.0.0.1:" + port + "/", []string{"egress to 127.0.0.1:" + port + " denied by policy"}},
		{"localhost", "http://localhost:" + port + "/", []string{"egress to 127.0.0.1:" + port + " denied by policy", "egress to [::1]:" + port + " denied by policy"}},
	}
	if v6 != nil {
		_, p6, _ := net.SplitHostPort(v6.Addr().String())
		reqs = append(reqs, request{"ipv6 loopback", "http://[::1]:" + p6 + "/", []string{"egress to [::1]:" + p6 + " denied by policy"}})
	}
	for _, tc := range reqs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := (*Policy)(nil).HTTPClient(0).Get(tc.url)
			if err == nil {
				t.Fatal("the default policy let the request through")
			}
			if got := Explain(err); !slices.Contains(tc.denied, got) {
				t.Fatalf("Explain = %q, want one of %q (error %v)", got, tc.denied, err)
			}
			resp, err := allowed.HTTPClient(0).Get(tc.url)
			if err != nil {
				t.Fatalf("allowed: %v", err)
			}
			defer resp.Body.Close()
			if body, _ := io.ReadAll(resp.Body); string(body) != "far-end secret" {
				t.Fatalf("allowed: body %q", body)
			}
		})
	}
}

// TestDialerRefusesUnroutedAddresses: a dial to the metadata address or
// a private one fails at Control, before any packet leaves.
func TestDialerRefusesUnroutedAddresses(t *testing.T) {
	for _, addr := range []string{"169.254.169.254:80", "10.0.0.1:80", "[fe80::1]:80"} {
		_, err := (*Policy)(nil).Dialer().DialContext(context.Background(), "tcp", addr)
		want := "egress to " + addr + " denied by policy"
		if got := Explain(err); got != want {
			t.Errorf("dial %s: Explain = %q (%v), want %q", addr, got, err, want)
		}
	}
}

func TestExplainHidesTheFarEnd(t *testing.T) {
	// A far end that answers a banner, not HTTP: Go's error quotes it.
	banner := testenv.Banner(t, "SSH-2.0-OpenSSH_9.6 secret-banner\r\n")
	_, err := New(netip.MustParsePrefix("127.0.0.1/32")).HTTPClient(0).Get("http://" + banner + "/")
	if err == nil || !strings.Contains(err.Error(), "secret-banner") {
		t.Fatalf("want Go's error to quote the banner (the leak Explain prevents), got %v", err)
	}
	if got := Explain(err); strings.Contains(got, "secret") || strings.Contains(got, "SSH") {
		t.Fatalf("Explain = %q: it echoes the far end", got)
	}
}
