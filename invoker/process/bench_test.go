package process

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
)

// BenchmarkColdStart measures a python container's create, init, first
// run and destroy, isolated (as root) against unisolated in the same run.
func BenchmarkColdStart(b *testing.B) {
	testenv.Python(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	plain := &Backend{cfg: Config{Dir: b.TempDir(), PythonPath: isolatedInterpreter("/usr/bin/python3", "python3")}, log: log,
		live: map[string]*container{}, uids: map[uint32]bool{}, unusable: map[string]error{}}
	backends := map[string]*Backend{"unisolated": plain}
	if os.Geteuid() == 0 {
		iso, err := New(Config{}, log)
		if err != nil {
			b.Fatal(err)
		}
		defer iso.Close(context.Background())
		iso.cfg.PythonPath = plain.cfg.PythonPath // the same interpreter for both
		backends["isolated"] = iso
	}
	for name, be := range backends {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c, err := be.Create(context.Background(), invoker.Spec{Kind: "python:3", MemoryMB: 128, Action: "/ns/cold"})
				if err != nil {
					b.Fatal(err)
				}
				if status, body := post(b, c.URL()+"/init", map[string]any{"value": map[string]any{"main": "main", "code": "def main(a):\n    return a\n"}}); status != 200 {
					b.Fatalf("init = %d %s", status, body)
				}
				if status, body := post(b, c.URL()+"/run", map[string]any{"value": map[string]any{}}); status != 200 {
					b.Fatalf("run = %d %s", status, body)
				}
				if err := c.Destroy(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
