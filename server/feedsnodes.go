package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	lease := s.cfg.Cluster.FeedLease
	if lease <= 0 {
		lease = DefaultClusterConfig().FeedLease
	}
	leases, err := s.nats.Leases(ctx, feedLeaseBucket, s.nodeID(), lease)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	s.feeds.Share(&feeds.Cluster{Leases: leases, Forward: feedForwarder{s.nats}, Scan: lease / 3})
	return s.nats.Serve(ctx, forwardSubject(s.nodeID()), func(ctx context.Context, req []byte) []byte {
		var call forwardedCall
		if err := json.Unmarshal(req, &call); err != nil {
			return forwardAnswer(nil, fmt.Errorf("forwarded feed action: %w", err))
		}
		ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
		defer cancel()
		return forwardAnswer(s.feeds.ServeForwarded(ctx, call.Handler, call.Call))
	})
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
