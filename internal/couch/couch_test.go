package couch

import (
	"strings"
	"testing"
)

func TestConnect(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string // "" means it connects
	}{
		{"http://127.0.0.1:5984", ""},
		{"https://user:pw@db.example:6984/base", ""},
		{"couchdb://user:pw@127.0.0.1:5984", ""},
		{"couchdbs://127.0.0.1:6984", ""},
		{"ftp://user:s3cret@host", `url ftp://xxxxx@host: scheme "ftp"`},
		{"http://", "no host"},
		{"http://user:s3cret@host:bad port", "url"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := Connect(tt.url, Options{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if strings.Contains(c.DSN(), "pw@") {
					t.Errorf("DSN %q keeps the credentials (they go in the Authorization header)", c.DSN())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("Connect: %v, want an error containing %q and no password", err, tt.wantErr)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://u:p@h:1/x", "http://xxxxx@h:1/x"}, // user names can be tokens too
		{"http://h:1", "http://h:1"},
		{"http://u:s3cret@h:bad port", "http://xxxxx@h:bad port"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
