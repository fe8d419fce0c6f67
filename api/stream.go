package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wispio/wisp/entity"
)

// streamBuffer is how many records a stream subscriber may fall behind
// before the hub drops it.
const streamBuffer = 256

// MaxStreamsPerNamespace bounds the live streams one namespace holds
// open at once on a node: each holds a connection, a goroutine and its
// buffer for as long as the client likes (no write time-out applies), so
// a tenant may not open them without end. One more answers 429.
const MaxStreamsPerNamespace = 64

// ErrTooManyStreams is Subscribe's answer when the namespace holds
// MaxStreamsPerNamespace streams already.
var ErrTooManyStreams = fmt.Errorf("too many activation streams open for this namespace (at most %d)", MaxStreamsPerNamespace)

// streamHeartbeat is how often an idle stream sends a comment line, so
// that proxies and browsers keep the connection open.
const streamHeartbeat = 15 * time.Second

// ActivationHub fans activation records out to the live streams of their
// namespace (GET /api/v1/namespaces/_/activations/stream). Each subscriber
// has a bounded buffer; one that falls behind is dropped (its stream ends
// and the client reconnects) rather than slowing the writer down. A
// subscriber only ever receives records of the namespace it subscribed to.
type ActivationHub struct {
	mu     sync.Mutex // guards subs and closed
	subs   map[string]map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch chan *entity.Activation // closed when dropped or cancelled
}

// NewActivationHub returns a hub without subscribers.
func NewActivationHub() *ActivationHub {
	return &ActivationHub{subs: map[string]map[*subscriber]struct{}{}}
}

// Publish hands each record to the subscribers of its namespace without
// blocking: a subscriber whose buffer is full is dropped.
func (h *ActivationHub) Publish(acts []*entity.Activation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range acts {
		for sub := range h.subs[a.Namespace] {
			select {
			case sub.ch <- a:
			default:
				h.removeLocked(a.Namespace, sub)
			}
		}
	}
}

// Subscribe returns the records of namespace ns published from now on and
// a cancel that ends the subscription. The channel is closed when cancel
// runs or when the hub drops a subscriber that fell behind. It fails with
// ErrTooManyStreams when ns holds MaxStreamsPerNamespace already.
func (h *ActivationHub) Subscribe(ns string) (<-chan *entity.Activation, func(), error) {
	sub := &subscriber{ch: make(chan *entity.Activation, streamBuffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(sub.ch)
		return sub.ch, func() {}, nil
	}
	if len(h.subs[ns]) >= MaxStreamsPerNamespace {
		h.mu.Unlock()
		return nil, nil, ErrTooManyStreams
	}
	if h.subs[ns] == nil {
		h.subs[ns] = map[*subscriber]struct{}{}
	}
	h.subs[ns][sub] = struct{}{}
	h.mu.Unlock()
	return sub.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.removeLocked(ns, sub)
	}, nil
}

// Close ends every subscription, and those made later at once: the
// streams end, so that the HTTP server's shutdown, which waits for every
// request, is not held up by open consoles (http.Server.RegisterOnShutdown).
func (h *ActivationHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ns, subs := range h.subs {
		for sub := range subs {
			h.removeLocked(ns, sub)
		}
	}
}

// Subscribers is the count of open subscriptions of namespace ns.
func (h *ActivationHub) Subscribers(ns string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[ns])
}

func (h *ActivationHub) removeLocked(ns string, sub *subscriber) {
	subs, ok := h.subs[ns]
	if !ok {
		return
	}
	if _, ok := subs[sub]; !ok {
		return
	}
	delete(subs, sub)
	close(sub.ch)
	if len(subs) == 0 {
		delete(h.subs, ns)
	}
}

// UseActivationStream serves GET /api/v1/namespaces/{ns}/activations/stream
// from hub; without it that path answers 404 like any unknown activation.
func (s *Server) UseActivationStream(hub *ActivationHub) { s.hub = hub }

// streamActivations serves the caller's namespace's new activations as
// server-sent events: one "activation" event per record, its data the
// record without result and logs (as lists return it). The stream ends
// when the client goes away or falls too far behind.
func (s *Server) streamActivations(w http.ResponseWriter, r *http.Request, id identity) error {
	ns, err := id.namespace(r)
	if err != nil {
		return err
	}
	if s.hub == nil {
		return newError(http.StatusNotFound, "The activation stream is not available on this node.")
	}
	acts, cancel, err := s.hub.Subscribe(ns)
	if err != nil {
		return newError(http.StatusTooManyRequests, "Too many activation streams are open for this namespace (at most "+strconv.Itoa(MaxStreamsPerNamespace)+"); close one first.")
	}
	defer cancel()
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout, which bounds the
	// other requests.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return fmt.Errorf("activation stream: %w", err)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": stream of "+ns+"\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
		case a, ok := <-acts:
			if !ok {
				return nil // dropped: the client reconnects
			}
			data, err := json.Marshal(a.Summary())
			if err != nil {
				s.log.Error("activation stream: encode", "activation", a.ActivationID, "err", err)
				continue
			}
			if _, err := fmt.Fprintf(w, "event: activation\nid: %s\ndata: %s\n\n", a.ActivationID, data); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}
