package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	_ "github.com/wispio/wisp/connectors/all" // the shipped connectors
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// tenant is one namespace of the server under attack.
type tenant struct {
	ns    string
	creds entity.Credentials
}

// target is the running server and its tenants.
type target struct {
	base    string // http://host:port
	tenants map[string]*tenant
}

// start runs a whole single-process Wisp with the process backend and one
// subject per name.
func start(t *testing.T, names ...string) *target {
	t.Helper()
	testenv.Node(t)
	cfg := server.DefaultConfig()
	cfg.Invoker = server.BackendProcess
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Throttles = throttle.Limits{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("WISP_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	tg := &target{tenants: map[string]*tenant{}}
	for _, n := range names {
		tg.tenants[n] = &tenant{ns: n, creds: entity.NewCredentials()}
	}
	srv, err := server.Start(context.Background(), cfg, log, func(ctx context.Context, st store.Store) error {
		for _, tn := range tg.tenants {
			if err := st.CreateSubject(ctx, entity.Subject{Namespace: tn.ns, UUID: tn.creds.UUID, KeyHash: entity.HashKey(tn.creds.Key)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	tg.base = "http://" + srv.Addr()
	return tg
}

// request is one HTTP request to the target.
type request struct {
	as      string // tenant name; "" sends no credentials
	auth    string // a raw Authorization header instead
	method  string
	path    string // below the host, /api/v1/...
	body    func() io.Reader
	headers map[string]string
}

// do sends r and returns the status and body. A transport error (the
// server hung up on a body it refused) is returned as such.
func (tg *target) do(t *testing.T, r request) (int, []byte, error) {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		body = r.body()
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, tg.base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	if tn := tg.tenants[r.as]; tn != nil {
		req.SetBasicAuth(tn.creds.UUID, tn.creds.Key)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// must sends r and fails unless it answers want; it returns the body.
func (tg *target) must(t *testing.T, want int, r request) []byte {
	t.Helper()
	status, out, err := tg.do(t, r)
	if err != nil || status != want {
		t.Fatalf("%s %s as %q = %d %s (%v), want %d", r.method, r.path, r.as, status, out, err, want)
	}
	return out
}

// jsonBody is a request body of v in JSON.
func jsonBody(t *testing.T, v any) func() io.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return func() io.Reader { return bytes.NewReader(b) }
}

// text is a request body of s.
func text(s string) func() io.Reader {
	return func() io.Reader { return bytes.NewReader([]byte(s)) }
}

// huge is a JSON object body of n bytes, generated as it is sent.
func huge(n int64) func() io.Reader {
	return func() io.Reader {
		return io.MultiReader(bytes.NewReader([]byte(`{"a":"`)), io.LimitReader(repeatByte('x'), n), bytes.NewReader([]byte(`"}`)))
	}
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
