package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
)

const testAuth = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"

// seen is one request as the test server received it.
type seen struct {
	Method string
	Path   string // escaped
	Query  string // raw
	Auth   string
	Body   string
}

// fakeAPI answers every request with one status and body and records what it
// was sent.
type fakeAPI struct {
	mu       sync.Mutex // guards requests
	requests []seen
	status   int
	body     string
	header   http.Header
}

func newFakeAPI(t *testing.T, status int, body string) (*fakeAPI, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{status: status, body: body, header: http.Header{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), string(b)})
		f.mu.Unlock()
		for k, v := range f.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// only returns the single request the server saw.
func (f *fakeAPI) only(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 1 {
		t.Fatalf("server saw %d requests, want 1: %+v", len(f.requests), f.requests)
	}
	return f.requests[0]
}

// sameJSON fails unless got and want are equal JSON documents ("" means no body).
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	if want == "" || got == "" {
		if got != want {
			t.Fatalf("body = %q, want %q", got, want)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

func TestRequests(t *testing.T) {
	limit := func(n int) *int { return &n }
	tests := []struct {
		name                string
		call                func(*Client) error
		status              int
		reply               string
		method, path, query string
		body                string
		anonymous           bool
	}{
		{
			name:   "get action",
			call:   func(c *Client) error { _, _, err := c.GetAction(context.Background(), "hello", false); return err },
			status: 200, reply: `{"name":"hello"}`,
			method: "GET", path: "/api/v1/namespaces/_/actions/hello", query: "code=false",
		},
		{
			name: "get packaged action with code in another namespace",
			call: func(c *Client) error {
				_, _, err := c.GetAction(context.Background(), "/guest/utils/say hi", true)
				return err
			},
			status: 200, reply: `{}`,
			method: "GET", path: "/api/v1/namespaces/guest/actions/utils/say%20hi", query: "code=true",
		},
		{
			name: "list actions",
			call: func(c *Client) error {
				_, _, err := c.ListActions(context.Background(), ActionListOptions{Limit: 30})
				return err
			},
			status: 200, reply: `[]`,
			method: "GET", path: "/api/v1/namespaces/_/actions", query: "limit=30&skip=0",
		},
		{
			name: "list actions of a package with count",
			call: func(c *Client) error {
				_, _, err := c.ListActions(context.Background(), ActionListOptions{Namespace: "guest", Package: "utils", Limit: 5, Skip: 10, Count: true})
				return err
			},
			status: 200, reply: `[]`,
			method: "GET", path: "/api/v1/namespaces/guest/actions/utils/", query: "count=true&limit=5&skip=10",
		},
		{
			name: "create action",
			call: func(c *Client) error {
				a := &Action{Namespace: "_", Name: "hello", Exec: &Exec{Kind: "nodejs:default", Code: "function main(){}"}}
				_, _, err := c.PutAction(context.Background(), a, false)
				return err
			},
			status: 200, reply: `{"name":"hello"}`,
			method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=false",
			body: `{"namespace":"_","name":"hello","exec":{"kind":"nodejs:default","code":"function main(){}"}}`,
		},
		{
			name: "update packaged action",
			call: func(c *Client) error {
				a := &Action{Namespace: "_", Name: "pkg/hello",
					Parameters: KeyValues{{Key: "name", Value: "World"}},
					Limits:     &Limits{Timeout: limit(3000)}}
				_, _, err := c.PutAction(context.Background(), a, true)
				return err
			},
			status: 200, reply: `{}`,
			method: "PUT", path: "/api/v1/namespaces/_/actions/pkg/hello", query: "overwrite=true",
			body: `{"namespace":"_","name":"pkg/hello","parameters":[{"key":"name","value":"World"}],"limits":{"timeout":3000}}`,
		},
		{
			name:   "delete action",
			call:   func(c *Client) error { _, err := c.DeleteAction(context.Background(), "/guest/hello"); return err },
			status: 200, reply: `{}`,
			method: "DELETE", path: "/api/v1/namespaces/guest/actions/hello",
		},
		{
			name: "invoke blocking for the result",
			call: func(c *Client) error {
				_, _, err := c.InvokeAction(context.Background(), "hello", map[string]any{"name": "Wisp"}, true, true)
				return err
			},
			status: 200, reply: `{"payload":"Hello, Wisp"}`,
			method: "POST", path: "/api/v1/namespaces/_/actions/hello", query: "blocking=true&result=true",
			body: `{"name":"Wisp"}`,
		},
		{
			name: "invoke without parameters sends an empty object",
			call: func(c *Client) error {
				_, _, err := c.InvokeAction(context.Background(), "hello", nil, false, false)
				return err
			},
			status: 202, reply: `{"activationId":"abc"}`,
			method: "POST", path: "/api/v1/namespaces/_/actions/hello", query: "blocking=false&result=false",
			body: `{}`,
		},
		{
			name: "list activations with every filter",
			call: func(c *Client) error {
				_, _, err := c.ListActivations(context.Background(), ActivationListOptions{Name: "pkg/hello", Since: 10, Upto: 20, Skip: 2, Limit: 3, Docs: true})
				return err
			},
			status: 200, reply: `[]`,
			method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=3&name=pkg%2Fhello&since=10&skip=2&upto=20",
		},
		{
			name: "list activations",
			call: func(c *Client) error {
				_, _, err := c.ListActivations(context.Background(), ActivationListOptions{Limit: 30})
				return err
			},
			status: 200, reply: `[]`,
			method: "GET", path: "/api/v1/namespaces/_/activations", query: "limit=30&skip=0",
		},
		{
			name: "get activation",
			call: func(c *Client) error {
				_, _, err := c.GetActivation(context.Background(), "44794bd6aab74415b4e42a308d880e5b")
				return err
			},
			status: 200, reply: `{}`,
			method: "GET", path: "/api/v1/namespaces/_/activations/44794bd6aab74415b4e42a308d880e5b",
		},
		{
			name:   "activation logs",
			call:   func(c *Client) error { _, _, err := c.ActivationLogs(context.Background(), "abc"); return err },
			status: 200, reply: `{"logs":[]}`,
			method: "GET", path: "/api/v1/namespaces/_/activations/abc/logs",
		},
		{
			name:   "activation result",
			call:   func(c *Client) error { _, _, err := c.ActivationResult(context.Background(), "abc"); return err },
			status: 200, reply: `{"status":"success","success":true,"result":{}}`,
			method: "GET", path: "/api/v1/namespaces/_/activations/abc/result",
		},
		{
			name:   "namespaces",
			call:   func(c *Client) error { _, _, err := c.ListNamespaces(context.Background()); return err },
			status: 200, reply: `["guest"]`,
			method: "GET", path: "/api/v1/namespaces",
		},
		{
			name:   "info is anonymous",
			call:   func(c *Client) error { _, _, err := c.Info(context.Background()); return err },
			status: 200, reply: `{"build":"2024","buildno":"7"}`,
			method: "GET", path: "/api/v1", anonymous: true,
		},
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testAuth))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, tt.status, tt.reply)
			c := New(Config{APIHost: srv.URL, Auth: testAuth})
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := api.only(t)
			if got.Method != tt.method || got.Path != tt.path || got.Query != tt.query {
				t.Fatalf("request = %s %s?%s, want %s %s?%s", got.Method, got.Path, got.Query, tt.method, tt.path, tt.query)
			}
			sameJSON(t, got.Body, tt.body)
			want := wantAuth
			if tt.anonymous {
				want = ""
			}
			if got.Auth != want {
				t.Fatalf("Authorization = %q, want %q", got.Auth, want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   Error
		text   string
	}{
		{"openwhisk error body", 404, `{"error":"The requested resource does not exist.","code":"4nTqV8dB1xbZ"}`,
			Error{404, "The requested resource does not exist.", "4nTqV8dB1xbZ"}, "The requested resource does not exist. (code 4nTqV8dB1xbZ)"},
		{"numeric code", 409, `{"error":"resource already exists","code":1422870}`,
			Error{409, "resource already exists", "1422870"}, "resource already exists (code 1422870)"},
		{"error without code", 401, `{"error":"The supplied authentication is invalid"}`,
			Error{401, "The supplied authentication is invalid", ""}, "The supplied authentication is invalid"},
		{"not json", 500, `<html>oops</html>`,
			Error{500, "the server answered HTTP 500 Internal Server Error", ""}, "the server answered HTTP 500 Internal Server Error"},
		{"empty body", 503, ``,
			Error{503, "the server answered HTTP 503 Service Unavailable", ""}, "the server answered HTTP 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeAPI(t, tt.status, tt.body)
			c := New(Config{APIHost: srv.URL, Auth: testAuth})
			_, resp, err := c.GetAction(context.Background(), "hello", false)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if *e != tt.want {
				t.Fatalf("error = %+v, want %+v", *e, tt.want)
			}
			if e.Error() != tt.text {
				t.Fatalf("Error() = %q, want %q", e.Error(), tt.text)
			}
			if resp == nil || string(resp.Body) != tt.body {
				t.Fatalf("response body = %v, want %q", resp, tt.body)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		host, want string
		fails      bool
	}{
		{host: "localhost:3233", want: "http://localhost:3233/api/v1"},
		{host: "wisp.example.com:443", want: "https://wisp.example.com:443/api/v1"},
		{host: "wisp.example.com", want: "https://wisp.example.com/api/v1"},
		{host: "[::1]:3233", want: "http://[::1]:3233/api/v1"},
		{host: "http://127.0.0.1:3233", want: "http://127.0.0.1:3233/api/v1"},
		{host: "https://wisp.example.com/prefix/", want: "https://wisp.example.com/prefix/api/v1"},
		{host: "", fails: true},
		{host: "ftp://x", fails: true},
		{host: "http://", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			u, err := BaseURL(tt.host, "v1")
			if tt.fails {
				if err == nil {
					t.Fatalf("BaseURL(%q) = %v, want an error", tt.host, u)
				}
				return
			}
			if err != nil || u.String() != tt.want {
				t.Fatalf("BaseURL(%q) = %v, %v, want %s", tt.host, u, err, tt.want)
			}
		})
	}
}

func TestBadAPIHostFailsEveryCall(t *testing.T) {
	c := New(Config{APIHost: "ftp://nowhere"})
	if _, _, err := c.ListNamespaces(context.Background()); err == nil {
		t.Fatal("call with a bad API host succeeded")
	}
}
