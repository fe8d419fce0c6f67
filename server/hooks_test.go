package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI records the requests of GitHub's or Slack's API and answers
// with answer(path, body).
type fakeAPI struct {
	mu     sync.Mutex
	calls  []fakeCall
	answer func(method, path string, body map[string]any) (int, any)
}

type fakeCall struct {
	Method, Path string
	Body         map[string]any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	body := map[string]any{}
	_ = json.Unmarshal(raw, &body)
	if len(body) == 0 {
		form, _ := url.ParseQuery(string(raw))
		for k := range form {
			body[k] = form.Get(k)
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{r.Method, r.URL.Path, body})
	f.mu.Unlock()
	status, out := f.answer(r.Method, r.URL.Path, body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeAPI) find(method, path string) *fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.calls {
		if f.calls[i].Method == method && f.calls[i].Path == path {
			return &f.calls[i]
		}
	}
	return nil
}

func hubSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func slackSign(secret string, at time.Time, body []byte) (string, string) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return ts, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func postHook(t *testing.T, url, contentType string, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// echoes returns the payloads that action's activations echoed.
func (a *rawAPI) echoes(action string) []map[string]any {
	var out []map[string]any
	for _, act := range a.activationsOf(action) {
		var r struct{ Echo map[string]any }
		if json.Unmarshal(act.Response.Result, &r) == nil && r.Echo != nil {
			out = append(out, r.Echo)
		}
	}
	return out
}

func TestGitHubWebhookEndToEnd(t *testing.T) {
	github := &fakeAPI{answer: func(method, _ string, body map[string]any) (int, any) {
		if method == "POST" {
			body["id"] = 7
			return 201, body
		}
		return 204, nil
	}}
	api := httptest.NewServer(github)
	defer api.Close()
	_, a := startTriggerServer(t, func(c *Config) {
		allowLoopback(c)
		c.Connectors.Settings = map[string]string{"github-api-url": api.URL}
	})
	a.action("onpush", 1)
	a.must(200, "PUT", "_/triggers/G", map[string]any{})
	a.rule("R", "G", "onpush")

	status, res := a.feedCall("github/webhook", "CREATE", "G", map[string]any{
		"username": "octo", "repository": "hello", "accessToken": "ghp_TOKEN", "events": "push,issues"})
	if status != 200 || res["ok"] != true {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	created := github.find("POST", "/repos/octo/hello/hooks")
	if created == nil {
		t.Fatalf("no webhook created: %+v", github.calls)
	}
	cfg := created.Body["config"].(map[string]any)
	hookURL, secret := cfg["url"].(string), cfg["secret"].(string)
	if res["endpoint"] != hookURL || cfg["content_type"] != "json" || !strings.Contains(hookURL, "/hooks/github/") || secret == "" {
		t.Fatalf("hook config %v, CREATE answer %v", cfg, res)
	}

	push, err := os.ReadFile("../connectors/github/testdata/push.json")
	if err != nil {
		t.Fatal(err)
	}
	var pushEvent map[string]any
	_ = json.Unmarshal(push, &pushEvent)
	deliver := func(id, sig string) (int, string) {
		return postHook(t, hookURL, "application/json", push, map[string]string{
			"X-GitHub-Event": "push", "X-GitHub-Delivery": id, "X-Hub-Signature-256": sig})
	}
	if code, out := deliver("d-1", hubSign(secret, push)); code != 200 {
		t.Fatalf("signed push = %d %s", code, out)
	}
	waitFor(t, "onpush run with the push event", func() bool {
		e := a.echoes("onpush")
		return len(e) == 1 && e[0]["ref"] == pushEvent["ref"] && e[0]["after"] == pushEvent["after"]
	})
	if code, _ := deliver("d-2", hubSign("not-the-secret", push)); code != http.StatusUnauthorized {
		t.Fatalf("bad signature = %d", code)
	}
	if code, out := deliver("d-1", hubSign(secret, push)); code != 200 || !strings.Contains(out, "duplicate") {
		t.Fatalf("redelivery = %d %s", code, out)
	}
	if code, _ := deliver("d-3", hubSign(secret, push)); code != 200 {
		t.Fatalf("second push = %d", code)
	}
	waitFor(t, "the second push", func() bool { return len(a.activationsOf("G")) >= 2 })
	waitFor(t, "onpush twice", func() bool { return len(a.echoes("onpush")) >= 2 })
	if n := len(a.activationsOf("G")); n != 2 {
		t.Fatalf("%d fires, want 2 (bad signature and redelivery fire nothing)", n)
	}

	status, res = a.feedCall("github/webhook", "READ", "G", nil)
	if status != 200 || strings.Contains(fmt.Sprint(res), "ghp_TOKEN") || strings.Contains(fmt.Sprint(res), secret) {
		t.Fatalf("READ = %d %v", status, res)
	}
	status, res = a.feedCall("github/webhook", "DELETE", "G", nil)
	if status != 200 || res["status"] != "deleted" || res["warning"] != nil {
		t.Fatalf("DELETE = %d %v", status, res)
	}
	if github.find("DELETE", "/repos/octo/hello/hooks/7") == nil {
		t.Fatalf("the webhook was not removed: %+v", github.calls)
	}
	if code, _ := deliver("d-4", hubSign(secret, push)); code != http.StatusNotFound {
		t.Fatalf("delivery after DELETE = %d", code)
	}
}

func TestSlackEndToEnd(t *testing.T) {
	slackAPI := &fakeAPI{answer: func(_, path string, body map[string]any) (int, any) {
		if path == "/api/chat.postMessage" {
			return 200, map[string]any{"ok": true, "channel": body["channel"], "ts": "1.5"}
		}
		return 404, nil
	}}
	api := httptest.NewServer(slackAPI)
	defer api.Close()
	_, a := startTriggerServer(t, func(c *Config) {
		allowLoopback(c)
		c.Connectors.Settings = map[string]string{"slack-api-url": api.URL + "/api/"}
	})
	a.action("onslack", 1)
	a.must(200, "PUT", "_/triggers/S", map[string]any{})
	a.rule("R", "S", "onslack")
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	status, res := a.feedCall("slack/events", "CREATE", "S", map[string]any{"signingSecret": secret})
	endpoint, _ := res["endpoint"].(string)
	if status != 200 || !strings.Contains(endpoint, "/hooks/slack/") {
		t.Fatalf("CREATE = %d %v", status, res)
	}
	send := func(file string, at time.Time) (int, string) {
		body, err := os.ReadFile("../connectors/slack/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		ts, sig := slackSign(secret, at, body)
		return postHook(t, endpoint, "application/json", body, map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
	}
	if code, out := send("url_verification.json", time.Now()); code != 200 || !strings.Contains(out, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") {
		t.Fatalf("url_verification = %d %s", code, out)
	}
	if code, _ := send("event_callback.message.json", time.Now().Add(-10*time.Minute)); code != http.StatusUnauthorized {
		t.Fatalf("stale timestamp = %d", code)
	}
	if code, out := send("event_callback.message.json", time.Now()); code != 200 {
		t.Fatalf("message event = %d %s", code, out)
	}
	waitFor(t, "onslack run with the message", func() bool {
		e := a.echoes("onslack")
		if len(e) != 1 {
			return false
		}
		ev, _ := e[0]["event"].(map[string]any)
		return ev["text"] == "Hello world"
	})
	if n := len(a.activationsOf("S")); n != 1 {
		t.Fatalf("%d fires, want 1 (url_verification and the stale request fire nothing)", n)
	}

	// The post action reaches chat.postMessage with the bot token.
	out := a.must(200, "POST", "whisk.system/actions/slack/post?blocking=true&result=true",
		map[string]any{"token": "xoxb-TOKEN", "channel": "C123ABC456", "text": "hello back"})
	var r map[string]any
	if json.Unmarshal(out, &r) != nil || r["ok"] != true || r["ts"] != "1.5" {
		t.Fatalf("post = %s", out)
	}
	if c := slackAPI.find("POST", "/api/chat.postMessage"); c == nil || c.Body["text"] != "hello back" {
		t.Fatalf("chat.postMessage calls = %+v", slackAPI.calls)
	}
}
