package deploy_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/wispio/wisp/catalog"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/deploy"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
)

// TestExampleHelloEvents deploys examples/hello-events as a user would, fires
// its trigger, and removes it; then again with its deployment file.
func TestExampleHelloEvents(t *testing.T) {
	e := start(t)
	dir := filepath.Join(testenv.RepoRoot(t), "examples", "hello-events")
	manifest := filepath.Join(dir, "manifest.yaml")

	p, err := deploy.Load(manifest, "", lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	if got := e.fired("visitor-arrived", map[string]any{"name": "Ada"}); got["text"] != "HELLO ADA! WELCOME TO THE LOBBY." {
		t.Errorf("welcome = %v", got)
	}

	p, err = deploy.Load(manifest, filepath.Join(dir, "deployment.yaml"), lookup(map[string]string{"PLACE": "the garden"}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	if got := e.fired("visitor-arrived", map[string]any{"name": "Grace"}); got["text"] != "BONJOUR GRACE! WELCOME TO THE GARDEN." {
		t.Errorf("welcome with the deployment file = %v", got)
	}

	e.undeploy("hello-events")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
}

// TestExampleScheduledJob deploys examples/scheduled-job: first as written
// (03:00 Paris time: the alarm's READ shows that schedule), then with its
// deployment file and an every-second cron, so that the cleanup runs with
// the trigger_payload; undeploy stops the alarm and removes everything.
func TestExampleScheduledJob(t *testing.T) {
	e := start(t)
	dir := filepath.Join(testenv.RepoRoot(t), "examples", "scheduled-job")
	manifest := filepath.Join(dir, "manifest.yaml")
	const feed = "/whisk.system/alarms/alarm"

	p, err := deploy.Load(manifest, "", lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	state, err := e.feedRead(feed, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	var read struct {
		Status string
		Config map[string]any
	}
	remarshal(t, state, &read)
	if read.Status != "active" || read.Config["cron"] != "0 3 * * *" || read.Config["timezone"] != "Europe/Paris" {
		t.Errorf("the alarm as deployed: %v", state)
	}

	p, err = deploy.Load(manifest, filepath.Join(dir, "deployment.yaml"), lookup(map[string]string{"CRON": "* * * * * *"}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	e.waitFor("the alarm to run scheduled-job/cleanup with its payload", func() bool {
		for _, act := range e.activationsOf("scheduled-job/cleanup") {
			var r struct {
				Job           string
				OlderThanDays int
				DryRun        bool
			}
			if act.Response.Success && json.Unmarshal(act.Response.Result, &r) == nil &&
				r.Job == "purge-sessions" && r.OlderThanDays == 30 && r.DryRun &&
				len(act.Logs) == 1 && strings.Contains(act.Logs[0], "purge-sessions: would delete the entries older than") {
				return true
			}
		}
		return false
	})

	e.undeploy("scheduled-job")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	e.noFeed(feed, "nightly")
}

// feedRead asks a feed action for a trigger's registration (READ), as
// wisp trigger get does; an error is the feed's answer when it has none.
func (e *env) feedRead(feed, trigger string) (map[string]any, error) {
	e.t.Helper()
	params := map[string]any{"lifecycleEvent": "READ", "triggerName": "/dep/" + trigger, "authKey": e.auth}
	inv, _, err := e.c.InvokeAction(context.Background(), feed, params, true, true)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(inv.Result, &out); err != nil {
		e.t.Fatalf("READ of %s: %s: %v", feed, inv.Result, err)
	}
	return out, nil
}

// noFeed checks that the feed manager holds no registration: READ fails
// and the store has none.
func (e *env) noFeed(feed, trigger string) {
	e.t.Helper()
	if state, err := e.feedRead(feed, trigger); err == nil {
		e.t.Errorf("READ of %s after undeploy = %v, want an error", trigger, state)
	}
	n, err := e.srv.Store().Count(context.Background(), catalog.SystemNamespace, store.Feeds, "")
	if err != nil {
		e.t.Fatal(err)
	}
	if n != 0 {
		e.t.Errorf("%d feed registrations after undeploy", n)
	}
}

// activationsOf lists the activations of an entity ("pkg/name"), newest
// first, with results and logs.
func (e *env) activationsOf(name string) []client.Activation {
	e.t.Helper()
	acts, _, err := e.c.ListActivations(context.Background(), client.ActivationListOptions{Name: name, Docs: true, Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return acts
}

// waitFor polls cond until it holds; it fails the test after 30 s, long
// enough for a loaded machine, short enough for a hung feed.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func remarshal(t *testing.T, in, out any) {
	t.Helper()
	data, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		t.Fatalf("decode %v: %v", in, err)
	}
}

// TestExampleIoTMQTT deploys examples/iot-mqtt against the real Mosquitto,
// publishes a reading below the limit and then one above it as a device
// would, and expects one alert, the second's: the first reading's threshold
// ended its sequence with an error. Undeploy removes everything, the MQTT
// feed's registration included.
func TestExampleIoTMQTT(t *testing.T) {
	broker := testenv.Mosquitto(t)
	e := start(t)
	manifest := filepath.Join(testenv.RepoRoot(t), "examples", "iot-mqtt", "manifest.yaml")
	p, err := deploy.Load(manifest, "", lookup(map[string]string{"MQTT_URL": broker}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)

	device := mqttClient(t, broker, "example-device")
	alerts := make(chan paho.Message, 10)
	if tok := device.Subscribe("alerts/temperature", 1, func(_ paho.Client, m paho.Message) { alerts <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe to the alerts: %v", tok.Error())
	}
	for _, r := range []struct{ topic, body string }{
		{"sensors/kitchen/temperature", `{"celsius": 21.5}`},
		{"sensors/attic/temperature", `{"celsius": 35}`},
	} {
		if tok := device.Publish(r.topic, 1, false, r.body); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", r.topic, tok.Error())
		}
	}

	var alert map[string]any
	select {
	case m := <-alerts:
		if err := json.Unmarshal(m.Payload(), &alert); err != nil {
			t.Fatalf("alert %q: %v", m.Payload(), err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no alert on alerts/temperature within 30 s")
	}
	if alert["sensor"] != "attic" || alert["celsius"] != 35.0 || alert["limit"] != 30.0 {
		t.Errorf("alert = %v, want the attic's", alert)
	}

	// Both readings ran the sequence; the kitchen's stopped at threshold.
	var seqs []client.Activation
	e.waitFor("both readings to run check-temperature", func() bool {
		seqs = e.activationsOf("iot-mqtt/check-temperature")
		return len(seqs) == 2
	})
	outcome := map[string]string{} // sensor → how its sequence ended
	for _, act := range seqs {
		var r struct{ Error, Topic string }
		_ = json.Unmarshal(act.Response.Result, &r)
		switch {
		case !act.Response.Success && strings.HasPrefix(r.Error, "below the limit: kitchen at 21.5 °C"):
			outcome["kitchen"] = fmt.Sprintf("stopped after %d component(s)", len(act.Logs))
		case act.Response.Success && r.Topic == "alerts/temperature":
			outcome["attic"] = fmt.Sprintf("published after %d component(s)", len(act.Logs))
		default:
			t.Errorf("unexpected sequence activation: %s %s", act.Response.Status, act.Response.Result)
		}
	}
	want := map[string]string{"kitchen": "stopped after 1 component(s)", "attic": "published after 2 component(s)"}
	if !maps.Equal(outcome, want) {
		t.Errorf("sequences = %v, want %v", outcome, want)
	}
	select {
	case m := <-alerts:
		t.Errorf("a second alert: %s", m.Payload())
	default:
	}

	e.undeploy("iot-mqtt")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	e.noFeed("/whisk.system/mqtt/messages", "readings")
}

// mqttClient connects a paho client with a clean session.
func mqttClient(t *testing.T, url, id string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("%s-%d", id, time.Now().UnixNano())))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect to %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// TestExampleSlackChatbot deploys examples/slack-chatbot against a fake
// Slack Web API, posts a signed message event to the feed's endpoint as
// Slack would, and expects the reply in the message's thread through
// chat.postMessage with the bot token. A bot's message and the bot's own
// reply get no answer. Undeploy removes everything, the feed included.
func TestExampleSlackChatbot(t *testing.T) {
	slackAPI := &fakeSlack{}
	api := httptest.NewServer(slackAPI)
	t.Cleanup(api.Close)
	e := start(t, func(c *server.Config) { c.Connectors.Settings = map[string]string{"slack-api-url": api.URL + "/api/"} })
	const secret, token = "8f742231b10e8888abcd99yyyzzz85a5", "xoxb-EXAMPLE"
	manifest := filepath.Join(testenv.RepoRoot(t), "examples", "slack-chatbot", "manifest.yaml")
	p, err := deploy.Load(manifest, "", lookup(map[string]string{"SLACK_SIGNING_SECRET": secret, "SLACK_BOT_TOKEN": token}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)
	state, err := e.feedRead("/whisk.system/slack/events", "slack-message")
	if err != nil {
		t.Fatal(err)
	}
	endpoint, _ := state["endpoint"].(string)
	if !strings.Contains(endpoint, "/hooks/slack/") {
		t.Fatalf("READ of the feed = %v, want its endpoint", state)
	}

	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "connectors", "slack", "testdata", "event_callback.message.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Slack's example message, then a bot's message and the bot's own
	// reply in the thread, each with its own event_id.
	events := []struct {
		id    string
		tweak map[string]any
	}{
		{"Ev123ABC456", nil},
		{"EvBOT1", map[string]any{"subtype": "bot_message", "bot_id": "B999", "text": "hello from a bot"}},
		{"EvBOT2", map[string]any{"bot_id": "B123", "user": "UBOT", "text": "Hello <@U123ABC456>!", "thread_ts": "1355517523.000005", "ts": "1355517524.000001"}},
	}
	for _, ev := range events {
		var cb map[string]any
		if err := json.Unmarshal(raw, &cb); err != nil {
			t.Fatal(err)
		}
		cb["event_id"] = ev.id
		inner := cb["event"].(map[string]any)
		maps.Copy(inner, ev.tweak)
		body, err := json.Marshal(cb)
		if err != nil {
			t.Fatal(err)
		}
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte("v0:" + ts + ":"))
		mac.Write(body)
		req, _ := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("event %s = %s %s", ev.id, resp.Status, out)
		}
	}

	// All three ran the sequence: the user's message to the post, the
	// bots' stopped at reply.
	e.waitFor("the three events to run slack-chatbot/chatbot", func() bool {
		return len(e.activationsOf("slack-chatbot/chatbot")) == 3
	})
	answered, stopped := 0, 0
	for _, act := range e.activationsOf("slack-chatbot/chatbot") {
		var r struct {
			OK    bool
			Error string
		}
		_ = json.Unmarshal(act.Response.Result, &r)
		switch {
		case act.Response.Success && r.OK:
			answered++
		case !act.Response.Success && strings.HasPrefix(r.Error, "not a user message"):
			stopped++
		default:
			t.Errorf("unexpected sequence activation: %s %s", act.Response.Status, act.Response.Result)
		}
		if strings.Contains(string(act.Response.Result), token) {
			t.Errorf("the bot token is in an activation result: %s", act.Response.Result)
		}
	}
	if answered != 1 || stopped != 2 {
		t.Errorf("%d answered and %d stopped, want 1 and 2", answered, stopped)
	}
	posts := slackAPI.posts()
	if len(posts) != 1 {
		t.Fatalf("chat.postMessage calls = %v, want one", posts)
	}
	want := map[string]string{"channel": "C123ABC456", "thread_ts": "1355517523.000005", "text": "Hello <@U123ABC456>!", "token": token}
	if !maps.Equal(posts[0], want) {
		t.Errorf("chat.postMessage = %v, want %v", posts[0], want)
	}

	e.undeploy("slack-chatbot")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	e.noFeed("/whisk.system/slack/events", "slack-message")
}

// fakeSlack answers the Slack Web API's chat.postMessage and records its
// calls (channel, thread_ts, text and the token, from the form or the
// Authorization header); any other method is unknown_method.
type fakeSlack struct {
	mu    sync.Mutex
	calls []map[string]string
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/api/chat.postMessage" || r.ParseForm() != nil {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "unknown_method"})
		return
	}
	call := map[string]string{"token": r.PostForm.Get("token")}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		call["token"] = auth
	}
	for _, k := range []string{"channel", "thread_ts", "text"} {
		call[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": call["channel"], "ts": "1355517524.000001"})
}

func (f *fakeSlack) posts() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// TestExampleCouchDBChanges deploys examples/couchdb-changes on
// pouchdb-server, writes a document into the followed database as an
// application would, and waits for its enriched copy in <db>-enriched.
// Undeploy removes everything, the changes feed's registration included.
func TestExampleCouchDBChanges(t *testing.T) {
	couch := testenv.CouchDB(t)
	db := fmt.Sprintf("wisp-example-%d", time.Now().UnixNano())
	for _, name := range []string{db, db + "-enriched"} {
		if code, body := couchDo(t, http.MethodPut, couch+"/"+name, nil); code != http.StatusCreated {
			t.Fatalf("create database %s: %d %s", name, code, body)
		}
	}
	e := start(t)
	manifest := filepath.Join(testenv.RepoRoot(t), "examples", "couchdb-changes", "manifest.yaml")
	p, err := deploy.Load(manifest, "", lookup(map[string]string{"COUCHDB_URL": couch, "COUCHDB_DB": db}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)

	if code, body := couchDo(t, http.MethodPut, couch+"/"+db+"/attic", map[string]any{"celsius": 35, "sensor": "attic"}); code != http.StatusCreated {
		t.Fatalf("write the reading: %d %s", code, body)
	}
	var enriched map[string]any
	e.waitFor("the enriched copy of attic", func() bool {
		code, body := couchDo(t, http.MethodGet, couch+"/"+db+"-enriched/attic", nil)
		return code == http.StatusOK && json.Unmarshal(body, &enriched) == nil
	})
	for k, want := range map[string]any{"celsius": 35.0, "sensor": "attic", "fahrenheit": 95.0, "enriched": true} {
		if enriched[k] != want {
			t.Errorf("enriched[%q] = %v, want %v (doc %v)", k, enriched[k], want, enriched)
		}
	}
	if rev, _ := enriched["sourceRev"].(string); !strings.HasPrefix(rev, "1-") {
		t.Errorf("sourceRev = %v, want the source's first revision", enriched["sourceRev"])
	}
	if seqs := e.activationsOf("couchdb-changes/enrich-change"); len(seqs) != 1 || !seqs[0].Response.Success {
		t.Errorf("enrich-change ran %d time(s), want once, successfully: %v", len(seqs), seqs)
	}

	e.undeploy("couchdb-changes")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	e.noFeed("/whisk.system/couchdb/changes", "doc-changed")
}

// couchDo sends a request with a JSON body (nil for none) to CouchDB and
// returns the status and the body.
func couchDo(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, in)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, url, err)
	}
	return resp.StatusCode, out
}

// TestExampleGitHubPush deploys examples/github-push against a fake GitHub
// API, delivers the push events GitHub would send to the webhook the feed
// created there (signed with its secret), and reads the summaries. Undeploy
// deletes the webhook at GitHub and everything in Wisp.
func TestExampleGitHubPush(t *testing.T) {
	github := &fakeGitHub{}
	api := httptest.NewServer(github)
	t.Cleanup(api.Close)
	e := start(t, func(c *server.Config) { c.Connectors.Settings = map[string]string{"github-api-url": api.URL} })
	manifest := filepath.Join(testenv.RepoRoot(t), "examples", "github-push", "manifest.yaml")
	p, err := deploy.Load(manifest, "", lookup(map[string]string{"GITHUB_USER": "Codertocat", "GITHUB_REPO": "Hello-World", "GITHUB_TOKEN": "ghp_EXAMPLE"}))
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(p)

	created := github.find("POST", "/repos/Codertocat/Hello-World/hooks")
	if created == nil {
		t.Fatalf("no webhook created: %v", github.seen())
	}
	var hook struct {
		Events []string
		Config struct{ URL, Secret string }
	}
	remarshal(t, created.body, &hook)
	if hook.Config.URL == "" || hook.Config.Secret == "" || !slices.Equal(hook.Events, []string{"push"}) {
		t.Fatalf("webhook = %v", created.body)
	}
	if created.auth != "Bearer ghp_EXAMPLE" && created.auth != "token ghp_EXAMPLE" {
		t.Errorf("webhook created with Authorization %q, want the token", created.auth)
	}

	// GitHub's example push (a tag, no commits), then the same with two
	// commits on main.
	tagPush, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "connectors", "github", "testdata", "push.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(tagPush, &ev); err != nil {
		t.Fatal(err)
	}
	ev["ref"] = "refs/heads/main"
	ev["commits"] = []map[string]any{{"id": "a1", "message": "one"}, {"id": "b2", "message": "two"}}
	branchPush, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range [][]byte{tagPush, branchPush} {
		req, _ := http.NewRequest(http.MethodPost, hook.Config.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("delivery-%d", i))
		mac := hmac.New(sha256.New, []byte(hook.Config.Secret))
		mac.Write(body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d = %s %s", i, resp.Status, out)
		}
	}

	want := map[string]bool{
		"Codertocat pushed 0 commits to tag simple-tag of Codertocat/Hello-World": false,
		"Codertocat pushed 2 commits to branch main of Codertocat/Hello-World":    false,
	}
	e.waitFor("both pushes summarised", func() bool {
		acts := e.activationsOf("github-push/summarise")
		for _, act := range acts {
			var r struct {
				Text, Repository, Pusher string
				Commits                  int
			}
			if act.Response.Success && json.Unmarshal(act.Response.Result, &r) == nil &&
				r.Repository == "Codertocat/Hello-World" && r.Pusher == "Codertocat" &&
				len(act.Logs) == 1 && strings.HasSuffix(act.Logs[0], r.Text) {
				if _, ok := want[r.Text]; ok {
					want[r.Text] = true
				}
			}
		}
		return len(acts) == 2 && want["Codertocat pushed 0 commits to tag simple-tag of Codertocat/Hello-World"] &&
			want["Codertocat pushed 2 commits to branch main of Codertocat/Hello-World"]
	})

	e.undeploy("github-push")
	if left := e.names(); len(left) != 0 {
		t.Errorf("undeploy left %v", left)
	}
	e.noFeed("/whisk.system/github/webhook", "pushed")
	if github.find("DELETE", "/repos/Codertocat/Hello-World/hooks/7") == nil {
		t.Errorf("the webhook was not deleted at GitHub: %v", github.seen())
	}
}

// fakeGitHub records the calls of GitHub's REST API: creating a webhook
// answers it with id 7, anything else 204.
type fakeGitHub struct {
	mu    sync.Mutex
	calls []githubCall
}

type githubCall struct {
	method, path, auth string
	body               map[string]any
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.calls = append(f.calls, githubCall{r.Method, r.URL.Path, r.Header.Get("Authorization"), body})
	f.mu.Unlock()
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body["id"] = 7
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(body)
}

func (f *fakeGitHub) find(method, path string) *githubCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.calls {
		if f.calls[i].method == method && f.calls[i].path == path {
			return &f.calls[i]
		}
	}
	return nil
}

// seen lists the calls as "METHOD path" for failure messages.
func (f *fakeGitHub) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		out = append(out, c.method+" "+c.path)
	}
	return out
}
