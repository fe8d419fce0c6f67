package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/feeds"
)

// feedLeaseBucket is the key-value bucket of the feed registrations'
// leases (bus.Leases).
const feedLeaseBucket = "WISP_FEED_LEASES"

// shareFeeds makes this feeds node one of the cluster's: it holds the
// registrations through leases in NATS and answers the feed actions the
// other feeds nodes forward to it.
func (s *Server) shareFeeds(ctx context.Context) error {
	lease := s.cfg.Cluster.FeedLease // at least 1s: openBus checks it
	leases, err := s.nats.Leases(ctx, feedLeaseBucket, s.nodeID(), lease)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	// The cluster's lease time (the bucket's) paces the scans, whatever
	// this node's flag says.
	s.feeds.Share(&feeds.Cluster{Leases: leases, Forward: feedForwarder{s.nats}, Scan: leases.TTL() / 3, Hooks: hookForwarder{s.nats}})
	err = s.nats.Serve(ctx, forwardSubject(s.nodeID()), func(ctx context.Context, req []byte) ([]byte, bool) {
		var call forwardedCall
		if err := json.Unmarshal(req, &call); err != nil {
			return forwardAnswer(nil, fmt.Errorf("forwarded feed action: %w", err)), true
		}
		ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
		defer cancel()
		return forwardAnswer(s.feeds.ServeForwarded(ctx, call.Handler, call.Call)), true
	})
	if err != nil {
		return err
	}
	local := s.feeds.LocalHooks()
	if local == nil {
		return nil
	}
	// A delivery for a feed this node runs, sent to another feeds node:
	// answered here, and only here (the others stay silent).
	return s.nats.Serve(ctx, hooksSubject, func(ctx context.Context, req []byte) ([]byte, bool) {
		var hr feeds.HookRequest
		if err := json.Unmarshal(req, &hr); err != nil {
			return nil, false
		}
		ctx, cancel := context.WithTimeout(ctx, hookForwardWait)
		defer cancel()
		orig, err := http.NewRequestWithContext(ctx, hr.Method, hr.URL, nil)
		if err != nil {
			return nil, false
		}
		res := feeds.ServeHookLocally(local, hr, orig)
		if res.Status == http.StatusNotFound {
			return nil, false
		}
		b, err := json.Marshal(res)
		return b, err == nil
	})
}

// hooksSubject is where a feeds node asks the others for the feed of a
// webhook delivery it has no feed for.
const hooksSubject = "wisp-feeds-hooks"

// hookForwardWait is how long a feeds node waits for another to take a
// webhook delivery before answering 404.
const hookForwardWait = 3 * time.Second

// hookForwarder forwards webhook deliveries over NATS request and reply.
type hookForwarder struct{ nats *bus.NATS }

func (f hookForwarder) ForwardHook(ctx context.Context, req feeds.HookRequest) (feeds.HookResponse, bool, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return feeds.HookResponse{}, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, hookForwardWait)
	defer cancel()
	answer, err := f.nats.Request(ctx, hooksSubject, b)
	if err != nil {
		return feeds.HookResponse{}, false, nil // nobody runs its feed
	}
	var res feeds.HookResponse
	if err := json.Unmarshal(answer, &res); err != nil {
		return feeds.HookResponse{}, false, fmt.Errorf("forwarded hook: %w", err)
	}
	return res, true, nil
}

// forwardTimeout bounds a feed action forwarded to another feeds node
// (a CREATE connects to the source).
const forwardTimeout = 50 * time.Second

// forwardSubject is the subject a feeds node answers forwarded feed
// actions on (the node id hex-encoded: any id makes a valid subject).
func forwardSubject(node string) string { return "wisp-feeds." + hex.EncodeToString([]byte(node)) }

// forwardedCall is a feed action forwarded to the node that holds its
// registration.
type forwardedCall struct {
	Handler string       `json:"handler"`
	Call    builtin.Call `json:"call"`
}

// forwardedAnswer is its answer: the result, or the application error.
type forwardedAnswer struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

func forwardAnswer(result json.RawMessage, err error) []byte {
	a := forwardedAnswer{Result: result}
	if err != nil {
		a.Error = err.Error()
	}
	b, _ := json.Marshal(a)
	return b
}

// feedForwarder forwards feed actions over NATS request and reply.
type feedForwarder struct{ nats *bus.NATS }

func (f feedForwarder) Forward(ctx context.Context, node, handler string, call builtin.Call) (json.RawMessage, error) {
	req, err := json.Marshal(forwardedCall{Handler: handler, Call: call})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout+5*time.Second)
	defer cancel()
	b, err := f.nats.Request(ctx, forwardSubject(node), req)
	if err != nil {
		return nil, fmt.Errorf("forward %s to feeds node %s: %w", call.Action, node, err)
	}
	var a forwardedAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("forward %s to feeds node %s: %w", call.Action, node, err)
	}
	if a.Error != "" {
		return nil, errors.New(a.Error)
	}
	return a.Result, nil
}

// sharedQueues is a bus whose queues are shared by every process that
// consumes them (the feeds nodes' one builtins queue).
type sharedQueues struct{ bus.Bus }

func (b sharedQueues) Queue(ctx context.Context, topic, consumer string, ackWait time.Duration) (message.Subscriber, error) {
	return b.Bus.SharedQueue(ctx, topic, consumer, ackWait)
}
