package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/bus/bustest"
	"github.com/wispio/wisp/internal/testenv"
)

// connect returns a bus on the suite's nats-server with a prefix of its own.
func connect(t *testing.T, prefix string) *bus.NATS {
	t.Helper()
	url := testenv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.ConnectNATS(ctx, url, bus.NATSOptions{Name: t.Name(), Prefix: prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// uniquePrefix keeps a test's streams apart from every other run's.
func uniquePrefix() string {
	return fmt.Sprintf("t%d", time.Now().UnixNano())
}

// Reclaim takes a dead consumer's messages, delivered-unacked and queued,
// and leaves none behind.
func TestReclaim(t *testing.T) {
	b := connect(t, uniquePrefix())
	topic := bus.InvokerTopic("dead")
	ctx, cancel := context.WithCancel(t.Context())
	sub, err := b.Queue(ctx, topic, "invoker-dead", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	bustest.Publish(t, b, topic, "1", "2", "3", "4", "5")
	bustest.Receive(t, ch, 1, false) // in flight when the invoker died
	cancel()

	var mu sync.Mutex
	var got []string
	n, err := b.Reclaim(t.Context(), topic, "invoker-dead", func(m *message.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if m.Metadata.Get(bus.SeqHeader) == "" {
			t.Errorf("message %s without its stream sequence", m.UUID)
		}
		got = append(got, m.UUID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if n != 5 || !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("reclaimed %d: %v, want 1..5", n, got)
	}
	// Nothing is left: a second reclaim finds no message.
	n, err = b.Reclaim(t.Context(), topic, "invoker-dead", func(m *message.Message) error {
		t.Errorf("reclaimed %s twice", m.UUID)
		return nil
	})
	if err != nil || n != 0 {
		t.Fatalf("second reclaim: %d, %v", n, err)
	}
}

func TestPrefixIsChecked(t *testing.T) {
	_, err := bus.ConnectNATS(t.Context(), "nats://127.0.0.1:1", bus.NATSOptions{Prefix: "a.b"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Fatalf("err = %v, want one naming the prefix", err)
	}
}

// TestNATSURLCredentialsAreRedacted: a bus URL's user information never
// appears in ConnectNATS's errors or logs, however the connection fails.
func TestNATSURLCredentialsAreRedacted(t *testing.T) {
	for _, url := range []string{
		"nats://wispuser:hunter2pw@127.0.0.1:1",   // nothing listens
		"nats://hunter2pw@127.0.0.1:1",            // a token as user
		"nats://wispuser:hunter2pw@host:notaport", // does not parse
	} {
		var logs strings.Builder
		_, err := bus.ConnectNATS(t.Context(), url, bus.NATSOptions{}, slog.New(slog.NewTextHandler(&logs, nil)))
		if err == nil {
			t.Fatalf("ConnectNATS(%s) connected", url)
		}
		if strings.Contains(err.Error(), "hunter2pw") || strings.Contains(logs.String(), "hunter2pw") {
			t.Errorf("ConnectNATS error %q / logs %q show the credentials", err, logs.String())
		}
		if !strings.Contains(err.Error(), "xxxxx@") {
			t.Errorf("ConnectNATS error %q does not name the (redacted) server", err)
		}
	}
}

// Ping answers while the connection is up and fails once it is closed (the
// bus check of GET /readyz).
func TestNATSPing(t *testing.T) {
	b := connect(t, uniquePrefix())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("ping a live bus: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(ctx); err == nil {
		t.Fatal("ping a closed bus answered nil")
	}
}
