package couchdb

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/testenv"
)

// TestEgressPolicy: the feed's Validate and the read action refuse, at
// dial time, every address the default policy denies (a host name that
// resolves to loopback too) with exactly the policy's message; the allow
// list lets the test server through.
func TestEgressPolicy(t *testing.T) {
	url, db := testDB(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	allow := egress.New(netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"))
	tests := []struct {
		name   string
		url    string
		denied []string // the messages it may be refused with (localhost: either family)
		serves bool     // the test server answers there once allowed
	}{
		{"Loopback", url, []string{"egress to 127.0.0.1:" + port + " denied by policy"}, true},
		{"Localhost", "http://localhost:" + port, []string{"egress to 127.0.0.1:" + port + " denied by policy", "egress to [::1]:" + port + " denied by policy"}, true},
		{"IPv6Loopback", "http://[::1]:" + port, []string{"egress to [::1]:" + port + " denied by policy"}, false},
		{"CloudMetadata", "http://169.254.169.254", []string{"egress to 169.254.169.254:80 denied by policy"}, false},
		{"Private", "http://10.0.0.1:5984", []string{"egress to 10.0.0.1:5984 denied by policy"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]any{"url": tt.url, "dbname": db.Name(), "docid": "nope"}
			err := newProviderWith(nil).Validate(t.Context(), ChangesFeed, rawParams(t, params))
			if err == nil || !slices.Contains(tt.denied, err.Error()) || !errors.Is(err, feeds.ErrInvalid) {
				t.Fatalf("Validate with the default policy: %v, want one of %q (invalid)", err, tt.denied)
			}
			_, err = callRead(t, newProviderWith(nil), params)
			if err == nil || !slices.Contains(tt.denied, err.Error()) {
				t.Fatalf("read with the default policy: %v, want one of %q", err, tt.denied)
			}
			if !tt.serves {
				return
			}
			if err := newProviderWith(allow).Validate(t.Context(), ChangesFeed, rawParams(t, params)); err != nil {
				t.Fatalf("Validate with %s allowed: %v", tt.url, err)
			}
		})
	}
}

func callRead(t *testing.T, p *Provider, params map[string]any) (json.RawMessage, error) {
	t.Helper()
	b, _ := json.Marshal(params)
	return actionsByName(p)[ReadHandler](t.Context(), builtin.Call{Namespace: "ns", Action: "/whisk.system/couchdb/read", Params: b})
}

// TestFarEndTextStaysOut: what a (hostile) server answers never reaches
// the error: neither a CouchDB-style error's reason, nor a banner that is
// not HTTP at all; the status code alone does.
func TestFarEndTextStaysOut(t *testing.T) {
	httpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		status := http.StatusInternalServerError
		if strings.HasSuffix(r.URL.Path, "/_find") {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"SECRET-ERROR","reason":"SECRET-REASON"}`)
	}))
	defer httpSrv.Close()
	banner := testenv.Banner(t, "SSH-2.0-SECRET-BANNER\r\n")
	p := newProvider()
	tests := []struct {
		name, url, handler string
		params             map[string]any
		want               string
	}{
		{"ReadHTTPError", httpSrv.URL, ReadHandler, map[string]any{"docid": "d"}, "HTTP status 500"},
		{"WriteHTTPError", httpSrv.URL, WriteHandler, map[string]any{"doc": map[string]any{"_id": "d"}}, "HTTP status 500"},
		{"QueryRefused", httpSrv.URL, QueryHandler, map[string]any{"selector": map[string]any{}}, "query was refused by the server (HTTP status 400)"},
		{"ReadBanner", "http://" + banner, ReadHandler, map[string]any{"docid": "d"}, "url cannot reach"},
		{"ValidateHTTPError", httpSrv.URL, "", nil, "HTTP status 500"},
		{"ValidateBanner", "http://" + banner, "", nil, "url cannot reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := map[string]any{"url": tt.url, "dbname": "db"}
			for k, v := range tt.params {
				params[k] = v
			}
			var err error
			if tt.handler == "" {
				err = p.Validate(t.Context(), ChangesFeed, rawParams(t, params))
			} else {
				b, _ := json.Marshal(params)
				_, err = actionsByName(p)[tt.handler](t.Context(), builtin.Call{Namespace: "ns", Action: "/whisk.system/couchdb/x", Params: b})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error %v, want one containing %q and nothing the server sent", err, tt.want)
			}
		})
	}
}
