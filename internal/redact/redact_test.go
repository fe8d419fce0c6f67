package redact

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://user:pw@nats:4222", "nats://xxxxx@nats:4222"},
		{"nats://s3cr3ttoken@nats:4222", "nats://xxxxx@nats:4222"},
		{"nats://a:pw@n1:4222,nats://b:pw2@n2:4222", "nats://xxxxx@n1:4222,nats://xxxxx@n2:4222"},
		{"couchdb://admin:pa%40ss@db:5984/wisp_", "couchdb://xxxxx@db:5984/wisp_"},
		{"http://admin:p@ss@db:5984", "http://xxxxx@db:5984"},
		{"nats://u:pw@host:notaport", "nats://xxxxx@host:notaport"},
		{"u:pw@host", "xxxxx@host"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	raw := strings.Join([]string{"nats://user:hunter2@host", "bad"}, ":") // a port that does not parse
	_, perr := url.Parse(raw)
	base := fmt.Errorf("connect: %w", perr)
	err := Wrap(base, raw)
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "nats://xxxxx@host:bad") {
		t.Fatalf("Wrap = %q", err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !errors.Is(err, perr) {
		t.Fatal("Wrap lost the chain")
	}
	if Wrap(nil, raw) != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
}
