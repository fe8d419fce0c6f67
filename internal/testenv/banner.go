package testenv

import (
	"io"
	"net"
	"testing"
)

// Banner returns the address (127.0.0.1:PORT) of a TCP server that is not
// what a client expects: it writes banner to each connection and closes
// it, as an SSH daemon or any other service would. Tests use it to check
// that an error does not repeat what a far end sent. It stops after the
// test.
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
			_, _ = io.WriteString(c, banner)
			_ = c.Close()
		}
	}()
	return ln.Addr().String()
}
