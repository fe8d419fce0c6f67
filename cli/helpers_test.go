package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testAuth = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"

// exchange is one request a command must send and the answer it gets.
type exchange struct {
	method, path, query string // path escaped, query raw
	body                string // expected JSON body; "" for none
	anonymous           bool   // no Authorization header expected
	status              int
	reply               string
}

// seen is a request as the fake server received it.
type seen struct {
	method, path, query, auth, body string
}

// fakeAPI plays a scripted list of exchanges in order and records requests.
type fakeAPI struct {
	mu        sync.Mutex // guards requests
	requests  []seen
	script    []exchange
	onRequest func(n int) // called with the 1-based number of each request, before answering
}

func newFakeAPI(t *testing.T, script ...exchange) (*fakeAPI, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{script: script}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), string(body)})
		n := len(f.requests)
		hook := f.onRequest
		f.mu.Unlock()
		if hook != nil {
			hook(n)
		}
		status, reply := http.StatusInternalServerError, `{"error":"unexpected request","code":"test"}`
		if n <= len(f.script) {
			status, reply = f.script[n-1].status, f.script[n-1].reply
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// check compares what the server received with the script.
func (f *fakeAPI) check(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != len(f.script) {
		t.Errorf("server saw %d requests, want %d: %+v", len(f.requests), len(f.script), f.requests)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testAuth))
	for i := 0; i < len(f.requests) && i < len(f.script); i++ {
		got, want := f.requests[i], f.script[i]
		if got.method != want.method || got.path != want.path || got.query != want.query {
			t.Errorf("request %d = %s %s?%s, want %s %s?%s", i+1, got.method, got.path, got.query, want.method, want.path, want.query)
		}
		sameJSON(t, got.body, want.body)
		auth := wantAuth
		if want.anonymous {
			auth = ""
		}
		if got.auth != auth {
			t.Errorf("request %d Authorization = %q, want %q", i+1, got.auth, auth)
		}
	}
}

// sameJSON reports unless got and want are equal JSON documents.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	if got == "" || want == "" {
		if got != want {
			t.Errorf("body = %q, want %q", got, want)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("body %q is not JSON: %v", got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("test body %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

// isolate gives the test its own HOME and properties file and clears the
// environment overrides; it returns the properties file's path.
func isolate(t *testing.T, props string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("WISP_APIHOST", "")
	t.Setenv("WISP_AUTH", "")
	path := filepath.Join(home, "wskprops")
	t.Setenv("WSK_CONFIG_FILE", path)
	if props != "" {
		if err := os.WriteFile(path, []byte(props), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// result is what one CLI run printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// runCLI runs the CLI with args against a server at apihost (written to the
// properties file when not empty), in UTC, with a fast poll interval.
func runCLI(ctx context.Context, t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(strings.NewReader(stdin), &out, &errOut)
	a.location, a.pollInterval = time.UTC, time.Millisecond
	root := a.root()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return result{out.String(), errOut.String(), err}
}

// propsFor is a properties file pointing at srv.
func propsFor(srv *httptest.Server) string {
	return "APIHOST=" + srv.URL + "\nAUTH=" + testAuth + "\n"
}

var jsonMarshal = json.Marshal
