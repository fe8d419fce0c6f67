package feeds

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// handlerForwarder forwards to another node's hook handler in this
// process (the server sends it over NATS); that node stays silent on 404.
type handlerForwarder struct{ remote http.Handler }

func (f handlerForwarder) ForwardHook(_ context.Context, req HookRequest) (HookResponse, bool, error) {
	res := ServeHookLocally(f.remote, req, nil)
	return res, res.Status != http.StatusNotFound, nil
}

// hookNode answers 202 with the body and signature it got for the hooks
// it runs, 404 for the others.
func hookNode(runs string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != runs {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Node", runs)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, string(b)+" signed "+r.Header.Get("X-Sig"))
	})
}

// A webhook delivery reaches its feed whichever feeds node it is sent to.
func TestHooksAnswerOnEveryNode(t *testing.T) {
	h := forwardingHooks{local: hookNode("/hooks/fake/here"), fw: handlerForwarder{hookNode("/hooks/fake/there")}}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/hooks/fake/here", http.StatusAccepted, "event signed s1"},
		{"/hooks/fake/there", http.StatusAccepted, "event signed s1"},
		{"/hooks/fake/nowhere", http.StatusNotFound, "404 page not found\n"},
	} {
		req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader("event"))
		req.Header.Set("X-Sig", "s1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || rec.Body.String() != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.path, rec.Code, rec.Body.String(), tc.status, tc.body)
		}
	}
}
