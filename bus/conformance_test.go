package bus_test

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/bus/bustest"
)

func TestEmbeddedConformance(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (bus.Bus, func() bus.Bus) {
		path := filepath.Join(t.TempDir(), "queue.db")
		open := func() *bus.Embedded {
			b, err := bus.OpenEmbedded(path, time.Second, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		b := open()
		t.Cleanup(func() { _ = b.Close() })
		return b, func() bus.Bus {
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			b = open()
			return b
		}
	})
}

func TestNATSConformance(t *testing.T) {
	bustest.Run(t, func(t *testing.T) (bus.Bus, func() bus.Bus) {
		prefix := uniquePrefix()
		b := connect(t, prefix)
		return b, func() bus.Bus {
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			return connect(t, prefix)
		}
	})
}
