package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
)

// couchAuthProxy puts CouchDB's admin check in front of the suite's
// pouchdb-server (which, in memory, lets anyone in): a request without
// HTTP Basic user:password is answered 401 as CouchDB answers it, others
// are passed on. It counts the requests it passed.
func couchAuthProxy(t *testing.T, upstream, user, password string) (string, *atomic.Int64) {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var passed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"unauthorized","reason":"Name or password is incorrect."}`)
			return
		}
		passed.Add(1)
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &passed
}

// TestStoreCredentials: the CouchDB store authenticates with a user and
// password from the URL, from --store-credentials-file or from
// WISP_STORE_PASSWORD (for the URL's user); wrong, missing or doubly given
// credentials fail with an error naming where they came from, and neither
// an error nor a log line shows the password.
func TestStoreCredentials(t *testing.T) {
	const password = "C0uch-p@ss:w/rd" // URL-special characters: no encoding needed outside a URL
	upstream := testenv.CouchDB(t)
	proxyURL, passed := couchAuthProxy(t, upstream, "wisp", password)
	_, prefix := couchStore(t, upstream) // dropped after the test, without the proxy
	storeURL := proxyURL + "/?prefix=" + prefix
	withUser := func(userinfo string) string { return strings.Replace(storeURL, "http://", "http://"+userinfo+"@", 1) }
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name          string
		url, file, pw string
		wantErr       string // "" opens
	}{
		{"password in the URL", withUser("wisp:" + url.QueryEscape(password)), "", "", ""},
		{"credentials file", storeURL, file("creds", "wisp:"+password+"\n"), "", ""},
		{"WISP_STORE_PASSWORD", withUser("wisp"), "", password, ""},
		{"wrong password in the URL", withUser("wisp:wrong"), "", "", "refused the credentials of --store (couchdb://USER:PASSWORD@HOST)"},
		{"wrong credentials file", storeURL, file("wrong", "wisp:wrong-"+password), "", "refused the credentials of --store-credentials-file " + filepath.Join(dir, "wrong")},
		{"wrong WISP_STORE_PASSWORD", withUser("wisp"), "", "wrong-" + password, "refused the credentials of WISP_STORE_PASSWORD for user wisp"},
		{"no credentials", storeURL, "", "", "requires credentials: give them in --store"},
		{"file and URL", withUser("wisp"), file("both", "wisp:"+password), "", "--store names a user and --store-credentials-file is set"},
		{"file and env", storeURL, file("both2", "wisp:"+password), password, "--store-credentials-file and WISP_STORE_PASSWORD are both set"},
		{"env without a user", storeURL, "", password, "WISP_STORE_PASSWORD is set: --store must name the user"},
		{"not credentials", storeURL, file("junk", "wisp"), "", "--store-credentials-file " + filepath.Join(dir, "junk") + ": want one line USER:PASSWORD"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			cfg := DefaultConfig()
			cfg.Invoker = BackendProcess
			cfg.Addr = "127.0.0.1:0"
			cfg.DataDir = t.TempDir()
			cfg.StoreURL, cfg.StoreCredentialsFile, cfg.StorePassword = tt.url, tt.file, tt.pw
			before := passed.Load()
			srv, err := Start(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
			if err == nil {
				if err := srv.Store().CreateSubject(t.Context(), entity.Subject{Namespace: "creds" + strconv.Itoa(i), UUID: entity.NewCredentials().UUID}); err != nil {
					t.Errorf("write through the store: %v", err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := srv.Close(ctx); err != nil {
					t.Errorf("close: %v", err)
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Start: %v", err)
			case tt.wantErr == "" && passed.Load() == before:
				t.Fatal("no request reached the store with the credentials")
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Start succeeded, want an error %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %q, want one saying %q", err, tt.wantErr)
			}
			for _, secret := range []string{password, url.QueryEscape(password), "wrong-" + password} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the password", err)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs show the password:\n%s", logs.String())
				}
			}
		})
	}
}

// TestBusCredentialsFile: a node reaches a nats-server that requires a
// password with --bus-credentials-file, and without it fails to start
// with an error naming the flag.
func TestBusCredentialsFile(t *testing.T) {
	const password = "Bus-p4ss-w0rd"
	natsURL := testenv.NATSServer(t, `authorization { users = [ {user: wisp, password: "`+password+`"} ] }`)
	creds := filepath.Join(t.TempDir(), "bus-credentials")
	if err := os.WriteFile(creds, []byte("wisp:"+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"", creds} {
		var logs strings.Builder
		cfg := DefaultConfig()
		cfg.Invoker = BackendProcess
		cfg.Addr = "127.0.0.1:0"
		cfg.DataDir = t.TempDir()
		cfg.Cluster.BusURL, cfg.Cluster.BusCredentialsFile, cfg.Cluster.ID = natsURL, file, "n1"
		srv, err := Start(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := srv.Close(ctx); err != nil {
				t.Errorf("close: %v", err)
			}
			cancel()
		}
		switch {
		case file == "" && (err == nil || !strings.Contains(err.Error(), "--bus-credentials-file")):
			t.Errorf("without credentials: %v, want an error naming --bus-credentials-file", err)
		case file != "" && err != nil:
			t.Errorf("with --bus-credentials-file: %v", err)
		}
		if strings.Contains(logs.String(), password) {
			t.Errorf("logs show the password:\n%s", logs.String())
		}
	}
}
