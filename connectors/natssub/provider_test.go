package natssub

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// TestParams: parameter errors name the parameter and repeat no secret.
func TestParams(t *testing.T) {
	good := map[string]any{"url": "nats://example.com:4222", "subject": "a.*.>"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		params map[string]any
		want   string // prefix of the error; "" for none
	}{
		{"Good", good, ""},
		{"GoodNoPort", with("url", "nats://example.com"), ""},
		{"GoodQueue", with("queue", "workers"), ""},
		{"GoodStream", with("stream", "ORDERS"), ""},
		{"NoURL", with("url", nil), "url: required"},
		{"URLNotString", with("url", 4222), "url: must be a string"},
		{"BadScheme", with("url", "http://example.com:4222"), "url: scheme"},
		{"NoHost", with("url", "nats://:4222"), "url:"},
		{"BadPort", with("url", "nats://example.com:99999"), "url: port"},
		{"CredentialsInURL", with("url", "nats://u:sekrit@example.com:4222"), "url: must not hold credentials"},
		{"NoSubject", with("subject", nil), "subject: required"},
		{"EmptyToken", with("subject", "a..b"), "subject:"},
		{"TailNotLast", with("subject", "a.>.b"), "subject:"},
		{"StarInToken", with("subject", "a.b*"), "subject:"},
		{"SpaceInSubject", with("subject", "a b"), "subject:"},
		{"SpaceInQueue", with("queue", "a b"), "queue:"},
		{"DotInStream", with("stream", "A.B"), "stream:"},
		{"QueueWithStream", map[string]any{"url": "nats://h:1", "subject": "a", "stream": "S", "queue": "q"}, "queue:"},
		{"PasswordAlone", with("password", "sekrit"), "password:"},
		{"TokenAndUser", map[string]any{"url": "nats://h:1", "subject": "a", "username": "u", "token": "sekrit"}, "token:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFeedParams(rawParams(t, tt.params))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q...", err, tt.want)
			case err != nil && !errors.Is(err, feeds.ErrInvalid):
				t.Fatalf("error %v does not match feeds.ErrInvalid", err)
			case err != nil && strings.Contains(err.Error(), "sekrit"):
				t.Fatalf("error %v repeats the secret", err)
			}
		})
	}
}

// TestValidate: Validate connects to the server: one that does not answer
// fails naming url, a missing stream fails naming stream.
func TestValidate(t *testing.T) {
	nurl := testenv.NATS(t)
	js, err := jetstream.New(client(t, nurl))
	if err != nil {
		t.Fatal(err)
	}
	stream := unique(t)
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: stream, Subjects: []string{stream + ".>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(t.Context(), stream) })
	p := testProvider()
	tests := []struct {
		name   string
		feed   string
		params map[string]any
		want   string
	}{
		{"Good", MessagesFeed, map[string]any{"url": nurl, "subject": "wisp.test.>"}, ""},
		{"GoodStream", MessagesFeed, map[string]any{"url": nurl, "subject": stream + ".>", "stream": stream}, ""},
		{"NoServer", MessagesFeed, map[string]any{"url": "nats://127.0.0.1:1", "subject": "a"}, "url: cannot connect to the NATS server at nats://127.0.0.1:1"},
		{"NoStream", MessagesFeed, map[string]any{"url": nurl, "subject": "a", "stream": "WISP_NO_SUCH_STREAM"}, "stream: no stream"},
		{"OtherFeed", "publish", map[string]any{"url": nurl, "subject": "a"}, "feed:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(t.Context(), tt.feed, rawParams(t, tt.params))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, feeds.ErrInvalid)):
				t.Fatalf("Validate: %v, want %q... (invalid)", err, tt.want)
			}
		})
	}
}

// TestEgressPolicy: the default policy refuses the suite's nats-server on
// 127.0.0.1 (and localhost) at dial time, with exactly the policy's
// message, in Validate and in a running feed's report; allowing
// 127.0.0.1/32 lets it through (TestValidate).
func TestEgressPolicy(t *testing.T) {
	nurl := testenv.NATS(t)
	u, _ := url.Parse(nurl)
	port := u.Port()
	deny := New(DefaultConfig(), slog.New(slog.DiscardHandler)) // nil Egress: the default policy
	tests := []struct {
		name, url string
		denied    []string
	}{
		{"Loopback", nurl, []string{"egress to 127.0.0.1:" + port + " denied by policy"}},
		{"Localhost", "nats://localhost:" + port, []string{"egress to 127.0.0.1:" + port + " denied by policy", "egress to [::1]:" + port + " denied by policy"}},
		{"WebSocket", "ws://127.0.0.1:" + port, []string{"egress to 127.0.0.1:" + port + " denied by policy"}},
		{"CloudMetadata", "nats://169.254.169.254:80", []string{"egress to 169.254.169.254:80 denied by policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := deny.Validate(t.Context(), MessagesFeed, rawParams(t, map[string]any{"url": tt.url, "subject": "a"}))
			if err == nil || !contains(tt.denied, err.Error()) || !errors.Is(err, feeds.ErrInvalid) {
				t.Fatalf("Validate: %v, want one of %q (invalid)", err, tt.denied)
			}
		})
	}
	sink := feedstest.NewSink()
	reg := feeds.Registration{Trigger: "/guest/t", Provider: ProviderName, Feed: MessagesFeed, Params: rawParams(t, map[string]any{"url": nurl, "subject": "a"})}
	f, err := deny.Start(t.Context(), reg, sink)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() { _ = f.Stop(t.Context()) }()
	if err := sink.WaitReport(t, false); !strings.HasSuffix(err.Error(), "egress to 127.0.0.1:"+port+" denied by policy") {
		t.Fatalf("report %v, want the policy's denial", err)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// TestRegistered: importing the package registers the connector "nats",
// whose provider serves /whisk.system/nats/messages through Env's egress
// policy (the default one here: loopback refused).
func TestRegistered(t *testing.T) {
	providers, err := feeds.NewProviders(feeds.Env{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var p feeds.Provider
	for _, q := range providers {
		if q.Name() == ProviderName {
			p = q
		}
	}
	if p == nil || len(p.Feeds()) != 1 || p.Feeds()[0] != MessagesFeed {
		t.Fatalf("providers %v: want %s with feed %s", providers, ProviderName, MessagesFeed)
	}
	err = p.Validate(t.Context(), MessagesFeed, rawParams(t, map[string]any{"url": "nats://127.0.0.1:4222", "subject": "a"}))
	if err == nil || err.Error() != "egress to 127.0.0.1:4222 denied by policy" {
		t.Fatalf("Validate through the registered provider: %v, want the policy's denial", err)
	}
	// The feed manager makes the catalogue package from the provider:
	// /whisk.system/nats with its feed action messages.
	m, err := feeds.New(feeds.Config{}, nil, slog.New(slog.DiscardHandler), p)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := m.Packages()
	if len(pkgs) != 1 || pkgs[0].Name != ProviderName || len(pkgs[0].Builtins) != 1 {
		t.Fatalf("catalogue packages %+v, want %s with one feed action", pkgs, ProviderName)
	}
	if b := pkgs[0].Builtins[0]; b.Name != MessagesFeed || !b.Feed || b.Handler != feeds.HandlerName(ProviderName, MessagesFeed) || !strings.Contains(b.Description, "subject") {
		t.Fatalf("feed action %+v, want %s, a feed, described", b, MessagesFeed)
	}
}

// TestCredentialsAreRedacted: the credential parameters are declared
// secret (the feed manager seals them and READ hides them), the others
// are shown.
func TestCredentialsAreRedacted(t *testing.T) {
	decl := testProvider().Params(MessagesFeed)
	for name, secret := range map[string]bool{"password": true, "token": true, "username": false, "url": false, "subject": false, "queue": false, "stream": false} {
		p, ok := decl.Lookup(name)
		if !ok || p.Secret != secret {
			t.Errorf("%s: declared %v (secret %v), want secret %v", name, ok, p.Secret, secret)
		}
	}
}
