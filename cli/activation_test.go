package cli

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestActivationCommands(t *testing.T) {
	// 2024-03-01 12:00:00 UTC
	const start = int64(1709294400000)
	const list = `[
		{"activationId":"44794bd6aab74415b4e42a308d880e5b","namespace":"guest","name":"hello","version":"0.0.1","start":1709294400000,"end":1709294400025,"duration":25,
		 "statusCode":0,"annotations":[{"key":"kind","value":"nodejs:20"},{"key":"initTime","value":12}]},
		{"activationId":"0123456789abcdef0123456789abcdef","namespace":"guest","name":"a-rather-long-action-name-that-is-truncated","version":"0.0.2","start":1709294401000,"end":1709294401000,
		 "response":{"status":"application error","statusCode":1,"success":false}}
	]`
	row := func(datetime, id, kind, startKind, duration, status, entity string) string {
		return datetime + " " + pad(id, 32) + " " + pad(kind, 9) + " " + pad(startKind, 5) + " " + pad(duration, 10) + " " + pad(status, 17) + " " + entity + "\n"
	}
	header := pad("Datetime", 19) + " " + pad("Activation ID", 32) + " " + pad("Kind", 9) + " " + pad("Start", 6) + pad("Duration", 10) + " " + pad("Status", 17) + " Entity\n"
	last := exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "limit=1&skip=0", status: 200,
		reply: `[{"activationId":"abc","namespace":"guest","name":"hello","start":1}]`}
	logs := `{"logs":["2024-03-01T12:00:00.001Z stdout: hello","2024-03-01T12:00:00.002Z stderr: oops","plain"]}`
	tests := []cliCase{
		{
			name:   "list",
			args:   []string{"activation", "list"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations", query: "limit=30&skip=0", status: 200, reply: list}},
			stdout: header +
				row("2024-03-01 12:00:00", "44794bd6aab74415b4e42a308d880e5b", "nodejs:20", "cold", "25ms", "success", "guest/hello:0.0.1") +
				row("2024-03-01 12:00:01", "0123456789abcdef0123456789abcdef", "unknown", "warm", "0s", "application error", "guest/a-rather-long-a...is-truncated:0.0.2"),
		},
		{
			name: "list with filters",
			args: []string{"activation", "list", "pkg/hello", "--limit", "5", "--skip", "1", "--since", "10", "--upto", "20"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations", query: "limit=5&name=pkg%2Fhello&since=10&skip=1&upto=20",
				status: 200, reply: `[]`}},
			stdout: pad("Datetime", 19) + " " + pad("Activation ID", 32) + " Kind Start Duration   Status  Entity\n",
		},
		{
			name:   "list a namespace in full",
			args:   []string{"activation", "list", "/guest", "-f"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/guest/activations", query: "docs=true&limit=30&skip=0", status: 200, reply: `[{"activationId":"a"},{"activationId":"b"}]`}},
			stdout: "activations\n{\n    \"activationId\": \"a\"\n}\n{\n    \"activationId\": \"b\"\n}\n",
		},
		{
			name:   "get",
			args:   []string{"activation", "get", "abc"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations/abc", status: 200, reply: `{"activationId":"abc"}`}},
			stdout: "ok: got activation abc\n{\n    \"activationId\": \"abc\"\n}\n",
		},
		{
			name: "get the last one's summary",
			args: []string{"activation", "get", "--last", "--summary"},
			script: []exchange{last, {method: "GET", path: "/api/v1/namespaces/_/activations/abc", status: 200,
				reply: `{"activationId":"abc","namespace":"guest","name":"hello","end":` + strconv.FormatInt(start, 10) + `,"response":{"status":"success","result":{"ok":true}}}`}},
			stdout: "activation result for '/guest/hello' (success at 2024-03-01 12:00:00 +0000 UTC)\n{\n    \"ok\": true\n}\n",
		},
		{
			name:   "get logs only",
			args:   []string{"activation", "get", "abc", "-g"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations/abc", status: 200, reply: `{"activationId":"abc",` + logs[1:]}},
			stdout: "hello\noops\nplain\n",
		},
		{
			name:   "logs",
			args:   []string{"activation", "logs", "abc"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations/abc/logs", status: 200, reply: logs}},
			stdout: "2024-03-01T12:00:00.001Z stdout: hello\n2024-03-01T12:00:00.002Z stderr: oops\nplain\n",
		},
		{
			name:   "last logs stripped",
			args:   []string{"activation", "logs", "--last", "--strip"},
			script: []exchange{last, {method: "GET", path: "/api/v1/namespaces/_/activations/abc/logs", status: 200, reply: logs}},
			stdout: "hello\noops\nplain\n",
		},
		{
			name:   "result",
			args:   []string{"activation", "result", "abc"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations/abc/result", status: 200, reply: `{"status":"success","statusCode":0,"success":true,"result":{"n":1}}`}},
			stdout: "{\n    \"n\": 1\n}\n",
		},
		{
			name:   "result json",
			args:   []string{"activation", "result", "abc", "--json"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations/abc/result", status: 200, reply: `{"result":{"n":1}}`}},
			stdout: `{"result":{"n":1}}` + "\n",
		},
		{
			name:    "no activations for --last",
			args:    []string{"activation", "result", "-l"},
			script:  []exchange{{method: "GET", path: "/api/v1/namespaces/_/activations", query: "limit=1&skip=0", status: 200, reply: `[]`}},
			stderr:  "error: activation list does not contain any activations\n",
			wantErr: true,
		},
		{
			name:    "id and --last",
			args:    []string{"activation", "logs", "abc", "--last"},
			stderr:  "error: Invalid argument(s): [abc]. An activation ID or --last is required, not both.\nRun 'wisp activation logs --help' for usage.\n",
			wantErr: true,
		},
		{
			name:   "namespaces",
			args:   []string{"namespace", "list"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces", status: 200, reply: `["guest","whisk.system"]`}},
			stdout: "namespaces\nguest\nwhisk.system\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func TestPollPrintsNewActivationsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	act := func(id string, start int64, logs string) string {
		return `{"activationId":"` + id + `","name":"hello","start":` + strconv.FormatInt(start, 10) + `,"logs":[` + logs + `]}`
	}
	api, srv := newFakeAPI(t,
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=1&skip=0", status: 200,
			reply: `[` + act("old", 100, `"old line"`) + `]`},
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=0&name=hello&since=101&skip=0", status: 200,
			reply: `[` + act("a1", 200, `"one"`) + `]`},
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=0&name=hello&since=200&skip=0", status: 503,
			reply: `{"error":"busy","code":"b"}`},
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=0&name=hello&since=200&skip=0", status: 200,
			reply: `[` + act("a3", 300, `"three"`) + `,` + act("a2", 250, ``) + `,` + act("a1", 200, `"one"`) + `]`},
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=0&name=hello&since=300&skip=0", status: 200, reply: `[]`},
	)
	var once sync.Once
	api.onRequest = func(n int) {
		if n == 5 {
			once.Do(cancel)
		}
	}
	isolate(t, propsFor(srv))
	got := runCLI(ctx, t, "", "activation", "poll", "hello")
	api.check(t)
	want := "Enter Ctrl-c to exit.\nPolling for activation logs\n" +
		"\nActivation: 'hello' (a1)\n[\n    \"one\"\n]\n" +
		"\nActivation: 'hello' (a2)\n[]\n" +
		"\nActivation: 'hello' (a3)\n[\n    \"three\"\n]\n"
	if got.err != nil || got.stdout != want || got.stderr != "" {
		t.Fatalf("poll: err %v\nstdout\n%s\nwant\n%s\nstderr %s", got.err, got.stdout, want, got.stderr)
	}
}

func TestPollStopsOnRefusal(t *testing.T) {
	api, srv := newFakeAPI(t,
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=1&skip=0", status: 200, reply: `[]`},
		exchange{method: "GET", path: "/api/v1/namespaces/_/activations", query: "docs=true&limit=0&skip=0", status: 401, reply: `{"error":"The supplied authentication is invalid","code":"u"}`},
	)
	isolate(t, propsFor(srv))
	got := runCLI(context.Background(), t, "", "activation", "poll")
	api.check(t)
	if got.err == nil || !strings.HasSuffix(got.stderr, "error: The supplied authentication is invalid (code u)\n") {
		t.Fatalf("poll: err %v, stderr %q", got.err, got.stderr)
	}
}

func TestPollExits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "[]")
	}))
	defer srv.Close()
	isolate(t, propsFor(srv))
	begun := time.Now()
	got := runCLI(context.Background(), t, "", "activation", "poll", "--exit", "1")
	if got.err != nil {
		t.Fatalf("poll --exit: %v", got.err)
	}
	if elapsed := time.Since(begun); elapsed < time.Second {
		t.Fatalf("poll --exit 1 returned after %v", elapsed)
	}
}
