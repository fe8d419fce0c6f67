package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func ok(context.Context) error { return nil }

func TestReady(t *testing.T) {
	broken := func(context.Context) error { return errors.New("database not open") }
	stuck := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name       string
		checks     []Check
		wantStatus int
		wantError  []string // substrings of "error"
		wantFailed []string // checks reported not ok
	}{
		{"all answer", []Check{{"store", ok}, {"bus", ok}}, 200, nil, nil},
		{"no checks", nil, 200, nil, nil},
		{"store broken", []Check{{"store", broken}, {"bus", ok}}, 503, []string{"store: database not open"}, []string{"store"}},
		{"two fail", []Check{{"store", broken}, {"docker", stuck}, {"bus", ok}}, 503, []string{"docker: no answer", "store: database not open"}, []string{"docker", "store"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			New(50*time.Millisecond, tt.checks...).Register(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("readyz = %d %s, want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			var body struct {
				Error  string            `json:"error"`
				Checks map[string]Result `json:"checks"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("readyz body %s: %v", rec.Body, err)
			}
			for _, s := range tt.wantError {
				if !strings.Contains(body.Error, s) {
					t.Errorf("error %q does not say %q", body.Error, s)
				}
			}
			if len(body.Checks) != len(tt.checks) {
				t.Errorf("checks = %v, want one per check", body.Checks)
			}
			var failed []string
			for _, c := range tt.checks {
				if !body.Checks[c.Name].OK {
					failed = append(failed, c.Name)
				}
			}
			slices.Sort(failed)
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("failed checks = %v, want %v", failed, tt.wantFailed)
			}
		})
	}
}

func TestLive(t *testing.T) {
	mux := http.NewServeMux()
	New(time.Second, Check{"store", func(context.Context) error { return errors.New("down") }}).Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("healthz = %d %q, want 200 ok even when a check fails", rec.Code, rec.Body)
	}
}
