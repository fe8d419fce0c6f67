package api

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// rawRequest sends method and path as they are (no client-side cleaning, no
// redirect following) and returns the status, the Allow header and the body.
func rawRequest(t *testing.T, f *fixture, method, path string) (int, string, string, http.Header) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := method + " " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + base64.StdEncoding.EncodeToString([]byte(f.auth.UUID+":"+f.auth.Key)) + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Allow"), string(body), resp.Header
}

func TestPathsAndMethodsAnswerOpenWhiskErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/namespaces/_/actions/../actions/x", http.StatusBadRequest, ""},
		{"GET", "/api/v1/namespaces/_/actions/./x", http.StatusBadRequest, ""},
		{"GET", "/api/v1/namespaces/_/actions/%2e%2e/x", http.StatusBadRequest, ""},
		{"GET", "/api/v1/namespaces/_//actions", http.StatusBadRequest, ""},
		{"GET", "/api/v1/../../etc/passwd", http.StatusBadRequest, ""},
		{"GET", "/api/v1/web/me/default/w.json/../x", http.StatusBadRequest, ""},
		{"PATCH", "/api/v1/namespaces/_/actions/x", http.StatusMethodNotAllowed, "GET, HEAD, PUT, POST, DELETE"},
		{"PATCH", "/api/v1/namespaces/_/triggers/x", http.StatusMethodNotAllowed, "GET, HEAD, PUT, POST, DELETE"},
		{"PUT", "/api/v1/namespaces/_/actions", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"DELETE", "/api/v1/namespaces", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"POST", "/api/v1/namespaces/_/activations/0123", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"GET", "/api/v1/nothing", http.StatusNotFound, ""},
		{"PATCH", "/api/v1/nothing", http.StatusNotFound, ""},
		{"GET", "/api/v1/namespaces/_/actions/missing", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, allow, body, header := rawRequest(t, f, tt.method, tt.path)
			if status != tt.status || allow != tt.allow {
				t.Fatalf("= %d Allow %q %s, want %d Allow %q", status, allow, body, tt.status, tt.allow)
			}
			var eb errorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Error == "" || eb.Code == "" {
				t.Fatalf("body %q is not an OpenWhisk error body: %v", body, err)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// TestCanonicalPathsInFrontOfAMux: a ServeMux behind CanonicalPaths never
// redirects a ".." path (the server puts it in front of its outer mux).
func TestCanonicalPathsInFrontOfAMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/x/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := CanonicalPaths(mux)
	for path, want := range map[string]int{"/x/a": http.StatusTeapot, "/x/../x/a": http.StatusBadRequest, "/x/a/": http.StatusTeapot, "/x//a": http.StatusBadRequest} {
		rec := httptest.NewRecorder()
		req, _ := http.NewRequest(http.MethodGet, "http://h"+path, nil)
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
}
