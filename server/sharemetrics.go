package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
)

// metricsShare is a message on bus.TopicMetrics: what one process recorded
// for the namespace metrics view since its last one.
type metricsShare struct {
	// From is the sending process (random per start), so that a process
	// skips its own.
	From   string          `json:"from"`
	Recent json.RawMessage `json:"recent"`
}

// shareMetrics makes this clustered process's namespace metrics view the
// cluster's: every interval it broadcasts what it recorded since the last
// time (metrics.Metrics.TakeRecent), and it merges what the others send.
// A process that starts late, or misses a message, lacks those numbers:
// the view is a best effort, the Prometheus metrics are exact.
func (s *Server) shareMetrics(ctx context.Context, interval time.Duration) error {
	if s.metrics == nil {
		return nil
	}
	s.metrics.ShareRecent()
	var b [8]byte
	_, _ = rand.Read(b[:])
	self := hex.EncodeToString(b[:])
	msgs, err := s.bus.Broadcast().Subscribe(ctx, bus.TopicMetrics)
	if err != nil {
		return err
	}
	go s.mergeShares(msgs, self)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			recent := s.metrics.TakeRecent()
			if recent == nil {
				continue
			}
			payload, err := json.Marshal(metricsShare{From: self, Recent: recent})
			if err == nil {
				err = s.bus.Publish(bus.TopicMetrics, bus.NewMessage(self+"-"+time.Now().Format("150405.000000000"), payload))
			}
			if err != nil {
				s.log.Warn("share namespace metrics; those numbers are missing from the other processes' views", "err", err)
			}
		}
	}()
	return nil
}

func (s *Server) mergeShares(msgs <-chan *message.Message, self string) {
	for msg := range msgs {
		var share metricsShare
		if err := json.Unmarshal(msg.Payload, &share); err != nil {
			s.log.Warn("drop a malformed metrics share", "err", err)
		} else if share.From != self {
			if err := s.metrics.MergeRecent(share.Recent); err != nil {
				s.log.Warn("drop a malformed metrics share", "err", err)
			}
		}
		msg.Ack()
	}
}
