package testenv

import (
	"io"
	"net"
	"testing"
	"time"
)

// bannerWait is how long Banner waits for a client to speak first.
const bannerWait = 2 * time.Second

// Banner returns the address (127.0.0.1:PORT) of a TCP server that is not
// what a client expects: it writes banner to each connection and closes
// it, as an SSH daemon or any other service would. Tests use it to check
// that an error does not repeat what a far end sent. It first waits (up
// to bannerWait) for the client's first bytes, so that a client that
// speaks first (an HTTP request) reads the banner as the answer to it:
// written at once, it could reach an HTTP client before its request was
// sent, which then reports an idle connection closed instead of the
// malformed answer. It stops after the test.
func Banner(t testing.TB, banner string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(bannerWait))
				_, _ = c.Read(make([]byte, 4096))
				_, _ = io.WriteString(c, banner)
			}()
		}
	}()
	return ln.Addr().String()
}
