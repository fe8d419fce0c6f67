package github

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
)

// fakeGitHub is a GitHub API that records the hook requests it gets.
type fakeGitHub struct {
	t      *testing.T
	mu     sync.Mutex
	calls  []apiCall
	status int // answer with this status instead (0: success)
}

type apiCall struct {
	Method, Path, Auth string
	Body               map[string]any
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{r.Method, r.URL.Path, r.Header.Get("Authorization"), body})
	status := f.status
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"message":"refused by the fake"}`)
		return
	}
	switch r.Method {
	case http.MethodPost, http.MethodPatch:
		body["id"] = 4242
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(body)
	case http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *fakeGitHub) takeCalls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// newProvider is a provider of a fake GitHub API on 127.0.0.1, which its
// egress policy allows.
func newProvider(t *testing.T) (*Provider, *fakeGitHub) {
	return newProviderWith(t, egress.New(netip.MustParsePrefix("127.0.0.1/32")))
}

func newProviderWith(t *testing.T, policy *egress.Policy) (*Provider, *fakeGitHub) {
	t.Helper()
	fake := &fakeGitHub{t: t}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	p, err := New(Config{APIURL: api.URL, PublicURL: "https://wisp.example.com/", Egress: policy}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return p, fake
}

func rawParams(t *testing.T, m map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

func TestValidate(t *testing.T) {
	p, _ := newProvider(t)
	base := map[string]any{"username": "octo", "repository": "hello", "accessToken": "ghp_secret", "events": "push"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range base {
			m[a] = b
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
		want   string // "" means valid
	}{
		{"valid", base, ""},
		{"owner in repository", with("username", nil), "username: missing"},
		{"owner/name", with("repository", "octo/hello"), ""},
		{"owner mismatch", with("repository", "other/hello"), "repository: \"other/hello\" names owner"},
		{"no repository", with("repository", nil), "repository: missing"},
		{"no token", with("accessToken", nil), "accessToken: missing"},
		{"events array", with("events", []string{"push", "issues"}), ""},
		{"events list", with("events", "push, pull_request"), ""},
		{"events star", with("events", "*"), ""},
		{"no events", with("events", nil), "events: missing"},
		{"empty events", with("events", " , "), "events: empty"},
		{"bad event", with("events", "push;rm"), "events: \"push;rm\" is not"},
		{"events number", with("events", 3), "events: must be"},
		{"token number", with("accessToken", 3), "accessToken: must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(context.Background(), FeedWebhook, rawParams(t, tt.params))
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "ghp_secret") {
				t.Fatalf("the error repeats the token: %v", err)
			}
		})
	}
}

func TestRegisterCreatesEditsAndDeletesTheHook(t *testing.T) {
	p, fake := newProvider(t)
	reg := feeds.Registration{Trigger: "/ns/T", Provider: "github", Feed: FeedWebhook,
		Params: rawParams(t, map[string]any{"username": "octo", "repository": "hello", "accessToken": "ghp_secret", "events": "push,issues"})}
	raw, err := p.Register(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := parseState(raw)
	calls := fake.takeCalls()
	if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != "/repos/octo/hello/hooks" || calls[0].Auth != "Bearer ghp_secret" {
		t.Fatalf("calls = %+v", calls)
	}
	cfg, _ := calls[0].Body["config"].(map[string]any)
	if cfg["url"] != "https://wisp.example.com/hooks/github/"+st.ID || cfg["secret"] != st.Secret || cfg["content_type"] != "json" {
		t.Fatalf("hook config = %v, state %+v", cfg, st)
	}
	if ev, _ := json.Marshal(calls[0].Body["events"]); string(ev) != `["push","issues"]` || calls[0].Body["active"] != true {
		t.Fatalf("hook = %v", calls[0].Body)
	}
	if st.HookID != 4242 || len(st.ID) < 20 || len(st.Secret) < 40 {
		t.Fatalf("state = %+v", st)
	}

	// UPDATE on the same repository edits the hook, keeping URL and secret.
	reg.State = raw
	reg.Params["events"] = json.RawMessage(`"pull_request"`)
	raw2, err := p.Register(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	calls = fake.takeCalls()
	if len(calls) != 1 || calls[0].Method != "PATCH" || calls[0].Path != "/repos/octo/hello/hooks/4242" || string(raw2) != string(raw) {
		t.Fatalf("UPDATE calls = %+v, state %s", calls, raw2)
	}

	if err := p.Unregister(context.Background(), reg); err != nil {
		t.Fatal(err)
	}
	calls = fake.takeCalls()
	if len(calls) != 1 || calls[0].Method != "DELETE" || calls[0].Path != "/repos/octo/hello/hooks/4242" {
		t.Fatalf("DELETE calls = %+v", calls)
	}
	// A hook already gone is fine.
	fake.status = http.StatusNotFound
	if err := p.Unregister(context.Background(), reg); err != nil {
		t.Fatalf("Unregister of a gone hook = %v", err)
	}
}

func TestRegisterErrorsNameTheParameter(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{http.StatusUnauthorized, "accessToken: GitHub refused the token"},
		{http.StatusForbidden, "accessToken: the token may not manage"},
		{http.StatusNotFound, "repository: octo/hello not found"},
		{http.StatusUnprocessableEntity, "events: GitHub refused the webhook"},
		{http.StatusInternalServerError, "GitHub answered 500"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			p, fake := newProvider(t)
			fake.status = tt.status
			_, err := p.Register(context.Background(), feeds.Registration{Params: rawParams(t, map[string]any{
				"username": "octo", "repository": "hello", "accessToken": "ghp_secret", "events": "push"})})
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "ghp_secret") {
				t.Fatalf("Register = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRegisterEgressPolicy: the default policy refuses an API on
// loopback with exactly its message, and GitHub sees no call.
func TestRegisterEgressPolicy(t *testing.T) {
	p, fake := newProviderWith(t, nil)
	_, err := p.Register(context.Background(), feeds.Registration{Params: rawParams(t, map[string]any{
		"username": "octo", "repository": "hello", "accessToken": "ghp_secret", "events": "push"})})
	want := "egress to " + strings.TrimPrefix(p.api.String(), "http://")
	if err == nil || err.Error() != strings.TrimSuffix(want, "/")+" denied by policy" || len(fake.takeCalls()) != 0 {
		t.Fatalf("Register = %v, want %q denied by policy, and no call", err, want)
	}
}

// Sign is X-Hub-Signature-256 of body with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
