package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const benchRunBody = `{"value":{"name":"bench","n":1},"namespace":"guest","action_name":"/guest/echo",` +
	`"activation_id":"0123456789abcdef0123456789abcdef","deadline":"1700000000000","api_key":"k:s",` +
	`"transaction_id":"tx","action_version":"0.0.1"}`

// BenchmarkRunWarm measures POST /run on an initialised Node.js proxy whose
// action echoes its parameters: launcher work included.
func BenchmarkRunWarm(b *testing.B) {
	ts := newTestServer(b, RuntimeNodeJS)
	ts.mustInit(b, code(`function main(p) { return p; }`))
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			runDirect(b, ts.Server)
		}
	})
	b.Run("loopback-http", func(b *testing.B) {
		srv := httptest.NewServer(ts.Server)
		defer srv.Close()
		client := srv.Client()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Post(srv.URL+"/run", "application/json", strings.NewReader(benchRunBody))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkProxyOverhead measures POST /run against an in-process fake
// launcher that answers at once: what the proxy itself adds per activation,
// pipes included.
func BenchmarkProxyOverhead(b *testing.B) {
	s := newEchoServer(b)
	b.ReportAllocs()
	for b.Loop() {
		runDirect(b, s)
	}
}

func runDirect(b *testing.B, s *Server) {
	req := httptest.NewRequest(http.MethodPost, "/run", strings.NewReader(benchRunBody))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// newEchoServer is a ready Server wired to fakeLauncher instead of a process.
func newEchoServer(tb testing.TB) *Server {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Config{Runtime: RuntimeNodeJS, WorkDir: filepath.Join(tb.TempDir(), "w"), NodePath: exe})
	if err != nil {
		tb.Fatal(err)
	}
	var r, w [4]*os.File // stdin, fd 3, stdout, stderr
	for i := range r {
		if r[i], w[i], err = os.Pipe(); err != nil {
			tb.Fatal(err)
		}
	}
	l := s.newLauncher(0, pipes{stdin: w[0], results: r[1], stdout: r[2], stderr: r[3]})
	close(l.exited) // no process to wait for
	go fakeLauncher(r[0], w[1], w[2], w[3])
	putBuf(&s.bufs, <-l.ack)
	s.mu.Lock()
	s.l = l
	s.state.Store(int32(stateReady))
	s.mu.Unlock()
	tb.Cleanup(func() { s.Close() })
	return s
}

// fakeLauncher speaks the launcher protocol: it acks, then answers every
// activation with {"ok":true} after writing the sentinels.
func fakeLauncher(in io.ReadCloser, results, stdout, stderr io.WriteCloser) {
	defer func() {
		for _, c := range []io.Closer{in, results, stdout, stderr} {
			c.Close()
		}
	}()
	if _, err := io.WriteString(results, "{\"ok\":true}\n"); err != nil {
		return
	}
	br := bufio.NewReader(in)
	var out []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		id := line[:bytes.IndexByte(line, ' ')]
		out = append(append(out[:0], id...), " r {\"ok\":true}\n"...)
		_, _ = stdout.Write(sentinelLine)
		_, _ = stderr.Write(sentinelLine)
		if _, err := results.Write(out); err != nil {
			return
		}
	}
}

// BenchmarkRunWarmLanguages measures POST /run on an initialised Ruby and
// PHP proxy whose action echoes its parameters (compare with
// BenchmarkRunWarm's Node.js).
func BenchmarkRunWarmLanguages(b *testing.B) {
	for _, tt := range []struct{ runtime, code string }{
		{RuntimeRuby, "def main(args)\n  args\nend\n"},
		{RuntimePHP, "<?php\nfunction main(array $args) : array { return $args; }\n"},
	} {
		b.Run(tt.runtime, func(b *testing.B) {
			ts := newTestServer(b, tt.runtime)
			ts.mustInit(b, code(tt.code))
			b.ReportAllocs()
			for b.Loop() {
				runDirect(b, ts.Server)
			}
		})
	}
}
