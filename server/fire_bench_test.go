package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
)

// BenchmarkFire fires one trigger with ten rules, each starting a no-op
// Node.js action on the process backend, from 16 concurrent HTTP clients.
// It reports fires/s (accepted fires), activations/s (action activations
// stored, until the last one) and, measured in the same run, the bare bus
// throughput: the embedded bus's durable publish+consume of messages the
// size of one invocation. activations/bus is the ratio of the two.
func BenchmarkFire(b *testing.B) {
	const rules = 10
	srv, a := startTriggerServer(b, func(cfg *Config) { cfg.Pool.PauseGrace = time.Hour })
	a.must(200, "PUT", "_/actions/noop", map[string]any{
		"exec":   map[string]any{"kind": "nodejs:20", "code": `function main(p) { return {ok: true} }`},
		"limits": map[string]any{"concurrency": 200},
	})
	a.must(200, "PUT", "_/triggers/T", nil)
	for i := range rules {
		a.rule(fmt.Sprintf("R%d", i), "T", "noop")
	}
	a.firedActions(a.fire("T", map[string]any{}, http.StatusAccepted)) // warm

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := a.base + "_/triggers/T"
	var mu sync.Mutex
	ids := make([]string, 0, b.N)
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id, err := fireOnce(client, url, a.auth)
			if err != nil {
				b.Error(err)
				return
			}
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		}
	})
	fired := time.Since(start)
	waitForFired(b, srv, ids, rules)
	all := time.Since(start)
	b.StopTimer()

	bus := busThroughput(b, len(ids)*rules)
	acts := float64(len(ids)*rules) / all.Seconds()
	b.ReportMetric(float64(len(ids))/fired.Seconds(), "fires/s")
	b.ReportMetric(acts, "activations/s")
	b.ReportMetric(bus, "bus_msgs/s")
	b.ReportMetric(acts/bus, "activations/bus")
}

func fireOnce(c *http.Client, url string, auth entity.Credentials) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(`{"n":1}`)))
	req.SetBasicAuth(auth.UUID, auth.Key)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r struct{ ActivationID string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("fire = %d, %v", resp.StatusCode, err)
	}
	return r.ActivationID, nil
}

// waitForFired waits until every fire's trigger activation and all its
// action activations are stored.
func waitForFired(b *testing.B, srv *Server, triggerIDs []string, rules int) {
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	var pending []string
	for _, id := range triggerIDs {
		// A fire is queued: its trigger activation is written once its
		// rules' invocations are.
		act, err := srv.Store().GetActivation(ctx, "fire", id)
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			act, err = srv.Store().GetActivation(ctx, "fire", id)
		}
		if err != nil {
			b.Fatalf("trigger activation %s: %v", id, err)
		}
		for _, l := range act.Logs {
			var r routing.RuleResult
			if err := json.Unmarshal([]byte(l), &r); err != nil || !r.Success {
				b.Fatalf("rule result %s: %v", l, err)
			}
			pending = append(pending, r.ActivationID)
		}
	}
	if len(pending) != len(triggerIDs)*rules {
		b.Fatalf("%d rule activations for %d fires", len(pending), len(triggerIDs))
	}
	for len(pending) > 0 {
		if _, err := srv.Store().GetActivation(ctx, "fire", pending[0]); err == nil {
			pending = pending[1:]
			continue
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d action activations never stored", len(pending))
		}
		time.Sleep(time.Millisecond)
	}
}

// busThroughput publishes n invocation-sized messages on the embedded
// bus (kept on disk, as a fire's invocations are) from 16 publishers and
// returns how many per second one consumer received.
func busThroughput(b *testing.B, n int) float64 {
	payload, _ := json.Marshal(routing.Invocation{
		ActivationID: entity.NewActivationID(), TransactionID: entity.NewActivationID(),
		Action: entity.FQN{Namespace: "fire", Name: "noop"}, Revision: "1-0123456789abcdef", Subject: "fire",
		Params: json.RawMessage(`{"n":1}`), Cause: entity.NewActivationID(), Accepted: time.Now().UnixMilli(),
	})
	eb, err := bus.OpenEmbedded(filepath.Join(b.TempDir(), "queue.db"), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer eb.Close()
	topic := bus.InvokerTopic("bench")
	sub, err := eb.Queue(context.Background(), topic, "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	msgs, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for range n {
			(<-msgs).Ack()
		}
	}()
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if err := eb.Publish(topic, bus.NewMessage(entity.NewActivationID(), payload)); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	<-done
	return float64(n) / time.Since(start).Seconds()
}
