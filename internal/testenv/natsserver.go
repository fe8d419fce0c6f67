package testenv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// NATSServer starts a nats-server of the test's own, with JetStream, on a
// random loopback port, and returns its URL (nats://127.0.0.1:PORT, no
// credentials). config is the rest of its configuration file: an
// authorization block with users or nkeys, say (listen and jetstream are
// set here). It uses the nats-server binary scripts/test.sh installs and
// is stopped when the test ends. Tests of the shared server use NATS.
func NATSServer(t testing.TB, config string) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nats-server"); statErr == nil {
			bin, err = "/usr/sbin/nats-server", nil
		}
	}
	Require(t, "nats-server", err == nil, "no nats-server on PATH or in /usr/sbin; apt-get install nats-server")
	dir := t.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	body := fmt.Sprintf("listen: \"127.0.0.1:-1\"\njetstream { store_dir: %q }\n%s\n", filepath.Join(dir, "js"), config)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	log := &serverLog{}
	ready := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		log.scan(out, ready)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
	})
	select {
	case addr := <-ready:
		return "nats://" + addr
	case <-done:
		t.Fatalf("nats-server exited before it was ready:\n%s", log)
	case <-time.After(30 * time.Second):
		t.Fatalf("nats-server was not ready within 30 s:\n%s", log)
	}
	return ""
}

// serverLog keeps a server's output for a failure message.
type serverLog struct {
	mu    sync.Mutex // guards lines
	lines []string
}

const (
	natsListening = "Listening for client connections on "
	natsReady     = "Server is ready"
)

// scan reads nats-server's log to its end and sends the client address on
// ready once the server says it is ready.
func (l *serverLog) scan(r io.Reader, ready chan<- string) {
	var addr string
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
		if _, a, ok := strings.Cut(line, natsListening); ok {
			addr = strings.TrimSpace(a)
		}
		if strings.Contains(line, natsReady) && addr != "" {
			select {
			case ready <- addr:
			default:
			}
		}
	}
}

func (l *serverLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
