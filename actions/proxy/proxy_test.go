package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// step is one request of a protocol scenario and what must come back: the
// body equal (as JSON) to want, or containing contains.
type step struct {
	path     string
	body     any
	status   int
	want     string
	contains string
}

func initStep(value map[string]any, status int, want string) step {
	return step{path: "/init", body: map[string]any{"value": value}, status: status, want: want}
}

func runStep(value any, status int, want string) step {
	return step{path: "/run", body: map[string]any{"value": value}, status: status, want: want}
}

const okJSON = `{"ok":true}`

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func runScenarios(t *testing.T, runtime string, cases []struct {
	name  string
	steps []step
}) {
	t.Helper()
	requireInterpreter(t, runtime)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, runtime)
			for i, st := range tc.steps {
				status, body := ts.post(t, st.path, st.body)
				if status != st.status {
					t.Fatalf("step %d %s: status %d, want %d; body %s\nstderr:\n%s", i, st.path, status, st.status, body, ts.stderr.String())
				}
				if st.want != "" && !jsonEqual(body, st.want) {
					t.Fatalf("step %d %s: body %s, want %s\nstderr:\n%s", i, st.path, body, st.want, ts.stderr.String())
				}
				if st.contains != "" && !strings.Contains(body, st.contains) {
					t.Fatalf("step %d %s: body %s, want it to contain %q", i, st.path, body, st.contains)
				}
			}
		})
	}
}

func TestNodeProtocol(t *testing.T) {
	hello := code(`function main(p) { return {greeting: "hello " + p.name}; }`)
	cases := []struct {
		name  string
		steps []step
	}{
		{"inline", []step{initStep(hello, 200, okJSON), runStep(map[string]any{"name": "Ada"}, 200, `{"greeting":"hello Ada"}`)}},
		{"exports and custom main", []step{
			initStep(with(code(`exports.niam = (p) => ({n: p.n + 1});`), "main", "niam"), 200, okJSON),
			runStep(map[string]any{"n": 1}, 200, `{"n":2}`)}},
		{"async function", []step{
			initStep(code(`async function main(p) { await new Promise(r => setTimeout(r, 5)); return {twice: p.n * 2}; }`), 200, okJSON),
			runStep(map[string]any{"n": 21}, 200, `{"twice":42}`)}},
		{"promise", []step{
			initStep(code(`function main() { return new Promise(r => setImmediate(() => r({ok: 1}))); }`), 200, okJSON),
			runStep(nil, 200, `{"ok":1}`)}},
		{"undefined result is empty object", []step{
			initStep(code(`function main() {}`), 200, okJSON), runStep(nil, 200, `{}`)}},
		{"array result", []step{
			initStep(code(`function main() { return [1, 2]; }`), 200, okJSON), runStep(nil, 200, `[1,2]`)}},
		{"non-object result", []step{
			initStep(code(`function main() { return 42; }`), 200, okJSON),
			runStep(nil, 502, errorBody("The action did not return a dictionary."))}},
		{"throw then recover", []step{
			initStep(code(`function main(p) { if (!p.ok) throw new Error("boom"); return {fine: true}; }`), 200, okJSON),
			runStep(nil, 502, errorBody("An error has occurred: Error: boom")),
			runStep(map[string]any{"ok": 1}, 200, `{"fine":true}`)}},
		{"rejection is an application error", []step{
			initStep(code(`async function main() { const e = new Error("nope"); e.code = 7; throw e; }`), 200, okJSON),
			{path: "/run", body: map[string]any{"value": map[string]any{}}, status: 200, contains: `"message":"nope"`},
			{path: "/run", body: map[string]any{"value": map[string]any{}}, status: 200, contains: `"code":7`}}},
		{"reject with nothing", []step{
			initStep(code(`function main() { return Promise.reject(); }`), 200, okJSON), runStep(nil, 200, `{"error":{}}`)}},
		{"argument not an object", []step{
			initStep(hello, 200, okJSON),
			runStep(5, 403, errorBody("Internal system error: the argument must be a dictionary but has type 'number'."))}},
		{"zip with package.json main", []step{
			initStep(map[string]any{"binary": true, "code": zipCode(t, map[string]string{
				"package.json":  `{"name": "a", "main": "lib/app.js"}`,
				"lib/app.js":    `const h = require("./helper"); exports.main = p => ({msg: h.greet(p.name)});`,
				"lib/helper.js": `exports.greet = n => "hi " + n;`,
			})}, 200, okJSON),
			runStep(map[string]any{"name": "Bo"}, 200, `{"msg":"hi Bo"}`)}},
		{"zip index.js without binary flag", []step{
			initStep(code(zipCode(t, map[string]string{"index.js": `exports.main = () => ({zip: true});`})), 200, okJSON),
			runStep(nil, 200, `{"zip":true}`)}},
		{"zip module.function main", []step{
			initStep(with(code(zipCode(t, map[string]string{"other.js": `exports.handler = () => ({other: true});`})), "main", "other.handler"), 200, okJSON),
			runStep(nil, 200, `{"other":true}`)}},
		{"zip ES module", []step{
			initStep(code(zipCode(t, map[string]string{
				"package.json": `{"type": "module", "main": "main.js"}`,
				"main.js":      `export function main(p) { return {esm: p.x}; }`,
			})), 200, okJSON),
			runStep(map[string]any{"x": 1}, 200, `{"esm":1}`)}},
		{"zip without entry", []step{
			initStep(code(zipCode(t, map[string]string{"readme.txt": "hi"})), 502,
				errorBody("Initialization has failed due to: Zipped actions must contain either package.json or index.js at the root.")),
			runStep(nil, 403, errorBody("System not ready, status is stopped.")),
			initStep(hello, 403, errorBody("System not ready, status is stopped."))}},
		{"bad zip", []step{
			initStep(map[string]any{"binary": true, "code": "UEsDBA=="}, 502,
				errorBody("Initialization has failed due to: There was an error uncompressing the action archive."))}},
		{"syntax error", []step{
			{path: "/init", body: map[string]any{"value": code("function main( {")}, status: 502, contains: "Initialization has failed due to: "},
			{path: "/init", body: map[string]any{"value": hello}, status: 403}}},
		{"main is not a function", []step{
			initStep(code(`const x = 1;`), 502, errorBody("Initialization has failed due to: Action entrypoint 'main' is not a function."))}},
		{"launcher exits during init", []step{
			initStep(code(`process.exit(3);`), 502, errorBody(msgAbnormalInit))}},
		{"run before init", []step{runStep(nil, 403, errorBody("System not initialized."))}},
		{"missing code then init", []step{
			initStep(map[string]any{"main": "main"}, 403, errorBody(msgMissingCode)),
			initStep(hello, 200, okJSON)}},
		{"bad JSON", []step{
			{path: "/init", body: "{", status: 400, contains: "Error unmarshaling request"},
			initStep(hello, 200, okJSON),
			{path: "/run", body: `{"value": `, status: 400, contains: "Error unmarshaling request"},
			{path: "/run", body: `[1]`, status: 400, contains: "Error unmarshaling request"}}},
		{"re-init refused", []step{
			initStep(hello, 200, okJSON), initStep(hello, 403, errorBody(msgReinit))}},
		{"multi-line body", []step{
			initStep(hello, 200, okJSON),
			{path: "/run", body: "{\n\"value\":\r\n{\"name\":\n\"Lin\"}}\n", status: 200, want: `{"greeting":"hello Lin"}`}}},
	}
	runScenarios(t, RuntimeNodeJS, cases)
}

func TestPythonProtocol(t *testing.T) {
	hello := code("def main(args):\n    return {\"greeting\": \"hello \" + args.get(\"name\", \"\")}\n")
	cases := []struct {
		name  string
		steps []step
	}{
		{"inline", []step{initStep(hello, 200, okJSON), runStep(map[string]any{"name": "Ada"}, 200, `{"greeting":"hello Ada"}`)}},
		{"custom main", []step{
			initStep(with(code("def niam(a):\n    return {'n': a['n'] + 1}\n"), "main", "niam"), 200, okJSON),
			runStep(map[string]any{"n": 1}, 200, `{"n":2}`)}},
		{"exception is an application error", []step{
			initStep(code("def main(a):\n    raise ValueError('boom')\n"), 200, okJSON),
			runStep(nil, 200, `{"error":"boom"}`),
			runStep(nil, 200, `{"error":"boom"}`)}},
		{"non-object result", []step{
			initStep(code("def main(a):\n    return 42\n"), 200, okJSON),
			runStep(nil, 502, errorBody("The action did not return a dictionary or array."))}},
		{"list result", []step{
			initStep(code("def main(a):\n    return [1, 'x']\n"), 200, okJSON), runStep(nil, 200, `[1,"x"]`)}},
		{"zip with helper module", []step{
			initStep(map[string]any{"binary": true, "code": zipCode(t, map[string]string{
				"__main__.py": "from helper import greet\n\ndef main(a):\n    return {'msg': greet(a['name'])}\n",
				"helper.py":   "def greet(n):\n    return 'hi ' + n\n",
			})}, 200, okJSON),
			runStep(map[string]any{"name": "Bo"}, 200, `{"msg":"hi Bo"}`)}},
		{"zip without __main__.py", []step{
			initStep(code(zipCode(t, map[string]string{"x.py": ""})), 502,
				errorBody("The action failed to generate or locate a binary. See logs for details.")),
			runStep(nil, 500, errorBody("no action defined yet"))}},
		{"syntax error", []step{
			initStep(code("def main(a)\n    return {}\n"), 502,
				errorBody("The action failed to generate or locate a binary. See logs for details."))}},
		{"missing main", []step{
			initStep(code("def other(a):\n    return {}\n"), 502, errorBody("Cannot start action. Check logs for details."))}},
		{"run before init", []step{runStep(nil, 500, errorBody("no action defined yet"))}},
		{"re-init refused", []step{initStep(hello, 200, okJSON), initStep(hello, 403, errorBody(msgReinit))}},
		{"bad base64", []step{
			{path: "/init", body: map[string]any{"value": map[string]any{"binary": true, "code": "%%%"}}, status: 400, contains: "cannot decode the request"},
			initStep(hello, 200, okJSON)}},
		{"unicode round trip", []step{
			initStep(code("def main(a):\n    return {'echo': a['s'] + '✓'}\n"), 200, okJSON),
			runStep(map[string]any{"s": "żółw\n"}, 200, `{"echo":"żółw\n✓"}`)}},
	}
	runScenarios(t, RuntimePython, cases)
}

func TestEnvironment(t *testing.T) {
	t.Setenv("WISP_LEAK_CHECK", "leaked")
	run := map[string]any{
		"value": map[string]any{}, "namespace": "ns", "action_name": "/ns/act", "activation_id": "a1",
		"deadline": "1700000000000", "api_key": "k:s", "transaction_id": "tx", "action_version": "0.0.2",
	}
	env := map[string]any{"FOO": "bar", "NUM": 42, "OBJ": map[string]any{"a": 1}, "NIL": nil}
	want := `{"foo":"bar","num":"42","obj":"{\"a\":1}","nil":"","ns":"ns","act":"/ns/act","aid":"a1",` +
		`"dl":"1700000000000","key":"k:s","tx":"tx","ver":"0.0.2","leak":null}`
	sources := map[string]string{
		RuntimeNodeJS: `function main() { const e = process.env; return {foo: e.FOO, num: e.NUM, obj: e.OBJ, nil: e.NIL,
			ns: e.__OW_NAMESPACE, act: e.__OW_ACTION_NAME, aid: e.__OW_ACTIVATION_ID, dl: e.__OW_DEADLINE,
			key: e.__OW_API_KEY, tx: e.__OW_TRANSACTION_ID, ver: e.__OW_ACTION_VERSION, leak: e.WISP_LEAK_CHECK ?? null}; }`,
		RuntimePython: "import os\ndef main(a):\n    e = os.environ\n    return {'foo': e['FOO'], 'num': e['NUM'], 'obj': e['OBJ'], 'nil': e['NIL'],\n" +
			"        'ns': e['__OW_NAMESPACE'], 'act': e['__OW_ACTION_NAME'], 'aid': e['__OW_ACTIVATION_ID'], 'dl': e['__OW_DEADLINE'],\n" +
			"        'key': e['__OW_API_KEY'], 'tx': e['__OW_TRANSACTION_ID'], 'ver': e['__OW_ACTION_VERSION'], 'leak': e.get('WISP_LEAK_CHECK')}\n",
	}
	for runtime, src := range sources {
		t.Run(runtime, func(t *testing.T) {
			ts := newTestServer(t, runtime)
			ts.mustInit(t, map[string]any{"code": src, "env": env})
			status, body := ts.post(t, "/run", run)
			if status != http.StatusOK || !jsonEqual(body, want) {
				t.Fatalf("run: %d %s, want %s\nstderr:\n%s", status, body, want, ts.stderr.String())
			}
		})
	}
}

func TestRuntimeForKind(t *testing.T) {
	for _, tc := range []struct {
		kind, want string
		ok         bool
	}{
		{"nodejs:20", RuntimeNodeJS, true},
		{"nodejs:default", RuntimeNodeJS, true},
		{"nodejs", RuntimeNodeJS, true},
		{"python:3", RuntimePython, true},
		{"python:3.11", RuntimePython, true},
		{"native", RuntimeNative, true},
		{"native:default", RuntimeNative, true},
		{"blackbox", "", false},
		{"sequence", "", false},
		{"", "", false},
		{"java:8", "", false},
	} {
		got, ok := RuntimeForKind(tc.kind)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RuntimeForKind(%q) = %q, %v; want %q, %v", tc.kind, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown runtime", Config{Runtime: "cobol", WorkDir: t.TempDir()}, "unknown runtime"},
		{"no work dir", Config{Runtime: RuntimeNodeJS}, "WorkDir is required"},
		{"missing interpreter", Config{Runtime: RuntimePython, WorkDir: t.TempDir(), PythonPath: "/nonexistent/python9"}, "find python interpreter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	requireInterpreter(t, RuntimeNodeJS)
	ts := newTestServer(t, RuntimeNodeJS)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/run", http.StatusMethodNotAllowed},
		{http.MethodPost, "/other", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.status)
		}
	}
}
