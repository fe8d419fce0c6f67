package natssub

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// proxy forwards TCP connections to a server, and cuts them on demand:
// a lost connection as the feed sees it, with the real server behind.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex // guards conns
	conns []net.Conn
	wg    sync.WaitGroup // the accept loop and the copiers
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(s, c); s.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(c, s); c.Close() }()
	}
}

// cut closes every connection made so far.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestFeedReconnects: a lost connection is reported, the feed reconnects
// and subscribes again on its own, reports the recovery, and delivers the
// messages published after it.
func TestFeedReconnects(t *testing.T) {
	nurl := testenv.NATS(t)
	u, err := url.Parse(nurl)
	if err != nil {
		t.Fatal(err)
	}
	prx := startProxy(t, u.Host)
	subject := "wisp.test." + unique(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/t", map[string]any{"url": "nats://" + prx.ln.Addr().String(), "subject": subject}, sink)
	nc := client(t, nurl)
	if err := nc.Publish(subject, []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, sink); string(got.Data) != "1" {
		t.Fatalf("delivered %s, want 1", got.Data)
	}
	prx.cut()
	sink.WaitReport(t, false)
	sink.WaitReport(t, true)
	// The recovery is reported once the server holds the subscription.
	if err := nc.Publish(subject, []byte(`2`)); err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, sink); string(got.Data) != "2" {
		t.Fatalf("delivered %s after the reconnection, want 2", got.Data)
	}
}
