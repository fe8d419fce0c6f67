package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		method, path string
		want         int
		body         string
	}{
		{"GET", "/console/", http.StatusOK, `<script src="app.js">`},
		{"GET", "/console/app.js", http.StatusOK, "activations/stream"},
		{"GET", "/console/style.css", http.StatusOK, "[hidden]"},
		{"GET", "/console/missing.js", http.StatusNotFound, ""},
		{"POST", "/console/", http.StatusMethodNotAllowed, `"error"`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.want || !strings.Contains(string(body), tc.body) {
				t.Errorf("%d %.80q, want %d with %q", rec.Code, body, tc.want, tc.body)
			}
			if tc.want == http.StatusOK && rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}
