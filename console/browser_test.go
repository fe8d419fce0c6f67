package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// streamBound is how long the test lets a new activation take to show in
// the browser's live table. The stream carries it as the invoker queues
// the record; the bound is generous for a loaded 2-core machine.
const streamBound = 10 * time.Second

// startServer runs a single-process Wisp (process backend) with namespace
// "test" and returns it with that namespace's key.
func startServer(t *testing.T) (*server.Server, string) {
	t.Helper()
	testenv.Node(t)
	cfg := server.DefaultConfig()
	cfg.Invoker = server.BackendProcess
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Throttles = throttle.Limits{}
	creds := entity.NewCredentials()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.Start(context.Background(), cfg, log, func(ctx context.Context, st store.Store) error {
		return st.CreateSubject(ctx, entity.Subject{Namespace: "test", UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key)})
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
	return srv, creds.String()
}

// browser starts headless Chromium (no sandbox: the tests run as root).
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Chromium(t)),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.WindowSize(1280, 800),
		// The default 20 s is too short when the whole suite loads the machine.
		chromedp.WSURLReadTimeout(90*time.Second),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs actions in the browser, bounded by d.
func run(t *testing.T, ctx context.Context, d time.Duration, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestConsole drives the console in Chromium: a wrong key is refused, the
// right one logs in, an invoke made through the API appears in the live
// table within streamBound and in the charts (from the namespace's
// metrics), and clicking it shows its logs and result.
// With WISP_UPDATE_SCREENSHOT=1 it writes docs/console.png.
func TestConsole(t *testing.T) {
	srv, key := startServer(t)
	ctx := browser(t)
	base := "http://" + srv.Addr()
	c := client.New(client.Config{APIHost: base, Auth: key})
	code := `function main(p) { console.log("hello from " + p.who); return {greeting: "hi " + p.who}; }`
	if _, _, err := c.PutAction(context.Background(), &client.Action{Name: "greet", Exec: &client.Exec{Kind: "nodejs:20", Code: code}}, true); err != nil {
		t.Fatalf("create action: %v", err)
	}

	var refused string
	uuid, _, _ := strings.Cut(key, ":")
	run(t, ctx, 30*time.Second, "log in with a wrong key",
		chromedp.Navigate(base+"/console"),
		chromedp.WaitVisible("#key", chromedp.ByQuery),
		chromedp.SendKeys("#key", uuid+":not-the-key", chromedp.ByQuery),
		chromedp.Click("#login-button", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#login-error").textContent.includes("refused")`, nil),
		chromedp.Text("#login-error", &refused, chromedp.ByQuery),
	)
	var appHidden bool
	run(t, ctx, 5*time.Second, "check the app stays hidden",
		chromedp.Evaluate(`document.querySelector("#app").hidden`, &appHidden))
	if !appHidden {
		t.Fatalf("a wrong key opened the console (login error %q)", refused)
	}

	run(t, ctx, 30*time.Second, "log in",
		chromedp.SetValue("#key", key, chromedp.ByQuery),
		chromedp.Click("#login-button", chromedp.ByQuery),
		chromedp.WaitVisible("#activations", chromedp.ByQuery),
		chromedp.Poll(`document.body.dataset.stream === "open"`, nil),
	)
	var loginShown bool
	run(t, ctx, 5*time.Second, "check the login form is gone",
		chromedp.Evaluate(`getComputedStyle(document.querySelector("#login")).display !== "none"`, &loginShown))
	if loginShown {
		t.Error("the login form is still shown after logging in")
	}

	inv, _, err := c.InvokeAction(context.Background(), "greet", map[string]string{"who": "chromium"}, true, false)
	if err != nil || inv.Activation == nil {
		t.Fatalf("invoke: %v (%+v)", err, inv)
	}
	id := inv.Activation.ActivationID
	row := `#activations tr[data-id="` + id + `"]`
	began := time.Now()
	var status, start string
	run(t, ctx, streamBound, "see the activation in the live table",
		chromedp.WaitVisible(row, chromedp.ByQuery),
		chromedp.Text(row+" td:nth-child(3)", &status, chromedp.ByQuery),
		chromedp.Text(row+" td:nth-child(5)", &start, chromedp.ByQuery),
	)
	t.Logf("activation %s in the table %s after the invoke answered (%s, %s start)", id, time.Since(began), status, start)
	if status != "success" || start != "cold" {
		t.Errorf("row says status %q, start %q; want success, cold (the first invoke)", status, start)
	}

	checkCharts(t, ctx, base, key)

	var logs, result string
	run(t, ctx, 30*time.Second, "open the activation",
		chromedp.Click(row, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#detail-logs").textContent.includes("hello from chromium")`, nil),
		chromedp.Text("#detail-logs", &logs, chromedp.ByQuery),
		chromedp.Text("#detail-result", &result, chromedp.ByQuery),
	)
	if !strings.Contains(result, `"greeting": "hi chromium"`) {
		t.Errorf("result pane shows %q, want the greeting", result)
	}

	if os.Getenv("WISP_UPDATE_SCREENSHOT") == "1" {
		// A few more invokes, so the charts and the table have something.
		for _, who := range []string{"mqtt", "nats", "couchdb"} {
			if _, _, err := c.InvokeAction(context.Background(), "greet", map[string]string{"who": who}, true, false); err != nil {
				t.Fatalf("invoke: %v", err)
			}
		}
		var png []byte
		run(t, ctx, 30*time.Second, "screenshot",
			chromedp.Poll(`document.querySelectorAll("#activations tbody tr").length >= 4`, nil),
			chromedp.Poll(`JSON.parse(document.querySelector("#chart-invocations").dataset.values).reduce((a, b) => a + b, 0) >= 4`, nil,
				chromedp.WithPollingInterval(100*time.Millisecond)),
			chromedp.Click(row, chromedp.ByQuery),
			chromedp.Poll(`document.querySelector("#detail-logs").textContent.includes("hello from chromium")`, nil),
			chromedp.Evaluate(`document.querySelectorAll("tr.new").forEach((tr) => tr.classList.remove("new"))`, nil),
			chromedp.FullScreenshot(&png, 100), // quality 100 is PNG,
		)
		dst := filepath.Join(testenv.RepoRoot(t), "docs", "console.png")
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(errors.Join(errors.New("write screenshot"), err))
		}
		t.Logf("wrote %s", dst)
	}
}

// checkCharts waits for the one invoke so far to show in the invocations
// chart, and checks the charts' numbers are the namespace's metrics: the
// page read GET .../metrics, and the latency chart shows the p90 the
// endpoint estimates from its histogram buckets, which the activation
// records alone cannot give.
func checkCharts(t *testing.T, ctx context.Context, base, key string) {
	t.Helper()
	var latency string
	var fetched bool
	run(t, ctx, streamBound, "see the invoke in the invocations chart",
		chromedp.Poll(`JSON.parse(document.querySelector("#chart-invocations").dataset.values || "[]").reduce((a, b) => a + b, 0) === 1`, nil,
			chromedp.WithPollingInterval(100*time.Millisecond)),
		chromedp.Evaluate(`document.querySelector("#chart-latency").dataset.values`, &latency),
		chromedp.Evaluate(`performance.getEntriesByType("resource").some((e) => e.name.includes("/api/v1/namespaces/_/metrics"))`, &fetched),
	)
	if !fetched {
		t.Error("the page did not read the namespace's metrics")
	}
	req, err := http.NewRequest("GET", base+"/api/v1/namespaces/_/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	uuid, secret, _ := strings.Cut(key, ":")
	req.SetBasicAuth(uuid, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var view metrics.NamespaceView
	if err := json.NewDecoder(resp.Body).Decode(&view); err != nil {
		t.Fatal(err)
	}
	var p90 float64
	for _, m := range view.Minutes {
		if m.Invocations == 1 {
			p90 = m.Duration.P90Ms
		}
	}
	var drawn []float64
	if err := json.Unmarshal([]byte(latency), &drawn); err != nil {
		t.Fatalf("latency chart values %q: %v", latency, err)
	}
	if p90 <= 0 || !slices.ContainsFunc(drawn, func(v float64) bool { return math.Abs(v-p90) < 1e-9 }) {
		t.Errorf("latency chart draws %v, want the endpoint's p90 %v among them", drawn, p90)
	}
}
