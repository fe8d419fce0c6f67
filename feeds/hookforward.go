package feeds

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// HookRequest is a webhook delivery forwarded to the other feeds nodes
// because no feed of this node answers its URL.
type HookRequest struct {
	Method string      `json:"method"`
	URL    string      `json:"url"` // path and query
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// HookResponse is the answer of the node whose feed took the delivery.
type HookResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// HookForwarder hands a webhook delivery to the feeds node running its
// feed; false when no node answered (no feed has the URL).
type HookForwarder interface {
	ForwardHook(ctx context.Context, req HookRequest) (HookResponse, bool, error)
}

// MaxForwardedHook is the largest webhook body a feeds node forwards to
// the others (below NATS's default message size of 1 MB); a larger one
// sent to a node that does not run its feed is answered 404.
const MaxForwardedHook = 900 << 10

// forwardingHooks answers a webhook with the local providers' handler
// and, when that finds no feed for the URL (404), with the other feeds
// nodes' (Cluster.Hooks): every feeds node answers every hook.
type forwardingHooks struct {
	local http.Handler
	fw    HookForwarder
}

func (h forwardingHooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxForwardedHook+1))
	if err != nil {
		http.Error(w, "read the request body", http.StatusBadRequest)
		return
	}
	if len(body) > MaxForwardedHook {
		// Too large to forward: only this node may take it.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		h.local.ServeHTTP(w, r)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := ServeHookLocally(h.local, HookRequest{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header, Body: body}, r)
	if rec.Status == http.StatusNotFound {
		fwd, ok, err := h.fw.ForwardHook(r.Context(), HookRequest{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
		if err == nil && ok {
			rec = fwd
		}
	}
	for k, v := range rec.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// ServeHookLocally runs handler on req and records its answer; orig, when
// not nil, is the incoming request whose context and remote address the
// call keeps.
func ServeHookLocally(handler http.Handler, req HookRequest, orig *http.Request) HookResponse {
	ctx := context.Background()
	if orig != nil {
		ctx = orig.Context()
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return HookResponse{Status: http.StatusBadRequest}
	}
	r.Header = req.Header.Clone()
	if orig != nil {
		r.RemoteAddr, r.Host = orig.RemoteAddr, orig.Host
	}
	rec := &recorder{header: http.Header{}}
	handler.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return HookResponse{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
}

// recorder is an http.ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
