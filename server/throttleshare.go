package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wispio/wisp/throttle"
)

// throttleSubject is where the nodes that check throttles (controllers,
// feeds nodes) report their counts to each other.
const throttleSubject = "wisp-throttle"

// throttleReportEvery is how often a node reports its counts: the
// cluster's overshoot of a limit is at most what the other nodes accept
// in this long (see throttle.Report).
const throttleReportEvery = 50 * time.Millisecond

// shareThrottles makes the throttle count the whole cluster's
// invocations, fires and activations in flight: this node reports its
// counts and adds the others'.
func (s *Server) shareThrottles(ctx context.Context) error {
	s.throttle.Share(s.nodeID())
	err := s.nats.Listen(ctx, throttleSubject, func(b []byte) {
		var r throttle.Report
		if json.Unmarshal(b, &r) == nil {
			s.throttle.Merge(r)
		}
	})
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(throttleReportEvery)
		defer t.Stop()
		idle := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r := s.throttle.Report()
			if len(r.Namespaces) == 0 && idle {
				continue // said so already
			}
			idle = len(r.Namespaces) == 0
			b, err := json.Marshal(r)
			if err == nil {
				err = s.nats.Announce(throttleSubject, b)
			}
			if err != nil {
				s.log.Warn("throttle counts not reported", "err", err)
			}
		}
	}()
	return nil
}
