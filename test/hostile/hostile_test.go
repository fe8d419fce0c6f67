package hostile

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const (
	keepJS = `function main(p) { return {echo: p} }`
	// deepJS answers a result nesting 1,000 levels (Node's JSON.stringify
	// gives up long before 10,000).
	deepJS = `function main() { let v = 1; for (let i = 0; i < 999; i++) v = [v]; return {v} }`
	// loopJS is a conductor that always asks for one more component.
	loopJS = `function main(p) { return {action: "/alice/keep", params: {}, state: {n: (p.n || 0) + 1}} }`
	// selfJS is a conductor that runs itself as its component.
	selfJS = `function main(p) { return {action: "/alice/self", params: {}} }`
)

// nested is a JSON value of depth levels: arrays around a 1.
func nested(depth int) string {
	return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
}

// zipBomb is a zip action of one file unpacking to more than the
// 512 MB the action proxy allows, in about half a megabyte.
func zipBomb(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.Create("index.js")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 520 {
		if _, err := f.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func action(kind, code string) map[string]any {
	return map[string]any{"exec": map[string]any{"kind": kind, "code": code}}
}

// setup creates the data the attacks must leave intact, and returns the
// activation id of one earlier activation of alice.
func setup(t *testing.T, tg *target) string {
	t.Helper()
	put := func(as, path string, v any) {
		t.Helper()
		tg.must(t, http.StatusOK, request{as: as, method: "PUT", path: "/api/v1/namespaces/_/" + path + "?overwrite=true", body: jsonBody(t, v)})
	}
	annotated := func(code string, kv ...any) map[string]any {
		var ann []map[string]any
		for i := 0; i < len(kv); i += 2 {
			ann = append(ann, map[string]any{"key": kv[i], "value": kv[i+1]})
		}
		return map[string]any{"exec": map[string]any{"kind": "nodejs:default", "code": code}, "annotations": ann}
	}
	put("alice", "actions/keep", action("nodejs:default", keepJS))
	put("alice", "actions/web", annotated(keepJS, "web-export", true))
	put("alice", "actions/loop", annotated(loopJS, "conductor", true))
	put("alice", "actions/self", annotated(selfJS, "conductor", true))
	put("alice", "actions/bomb", map[string]any{"exec": map[string]any{"kind": "nodejs:default", "code": zipBomb(t), "binary": true}})
	put("alice", "actions/s2", map[string]any{"exec": map[string]any{"kind": "sequence", "components": []string{"/alice/keep"}}})
	put("alice", "actions/s1", map[string]any{"exec": map[string]any{"kind": "sequence", "components": []string{"/alice/s2"}}})
	put("alice", "triggers/t", map[string]any{})
	put("alice", "rules/r", map[string]any{"trigger": "/alice/t", "action": "/alice/keep"})
	put("pub", "packages/shared", map[string]any{"publish": true})
	// A native action answering a result that nests 9,999 levels: issue
	// 22's cross-tenant break of the caller's activation list.
	deepSh := "#!/bin/sh\nwhile read -r line; do echo '{\"v\":" + nested(9_998) + "}' >&3; done\n"
	put("pub", "actions/shared/deep", map[string]any{"exec": map[string]any{"kind": "native", "code": base64.StdEncoding.EncodeToString([]byte(deepSh)), "binary": true}})
	put("pub", "actions/shared/deepjs", action("nodejs:default", deepJS))
	out := tg.must(t, http.StatusOK, request{as: "alice", method: "POST", path: "/api/v1/namespaces/_/actions/keep?blocking=true", body: text(`{"kept":1}`)})
	var act struct {
		ActivationID string `json:"activationId"`
	}
	if err := json.Unmarshal(out, &act); err != nil || act.ActivationID == "" {
		t.Fatalf("setup invoke: %s (%v)", out, err)
	}
	return act.ActivationID
}

// hostileCase is one attack answered with an error body.
type hostileCase struct {
	name string
	request
	status int
	msg    string // a part of the error message
	skip   string
}

func cases(t *testing.T) []hostileCase {
	deep10k := `{"a":` + nested(9_999) + `}`
	deep513 := `{"a":` + nested(512) + `}`
	long := strings.Repeat("a", 10_000)
	const (
		acts = "/api/v1/namespaces/_/actions/"
	)
	post := func(path, body string) request {
		return request{as: "alice", method: "POST", path: path, body: text(body)}
	}
	put := func(path, body string) request {
		return request{as: "alice", method: "PUT", path: path, body: text(body)}
	}
	get := func(path string) request { return request{as: "alice", method: "GET", path: path} }
	seq := func(components ...string) string {
		b, _ := json.Marshal(map[string]any{"exec": map[string]any{"kind": "sequence", "components": components}})
		return string(b)
	}
	params := func(value string) string {
		return `{"exec":{"kind":"nodejs:default","code":"x"},"parameters":[{"key":"p","value":` + value + `}]}`
	}
	return []hostileCase{
		// Bodies of invoke.
		{name: "invoke truncated object", request: post(acts+"keep", `{"a":`), status: 400, msg: "malformed"},
		{name: "invoke truncated string", request: post(acts+"keep", `{"a":"x`), status: 400, msg: "malformed"},
		{name: "invoke lone brace", request: post(acts+"keep", `{`), status: 400, msg: "malformed"},
		{name: "invoke garbage", request: post(acts+"keep", `nul`), status: 400, msg: "malformed"},
		{name: "invoke array", request: post(acts+"keep", `[1,2]`), status: 400, msg: "must be a JSON object"},
		{name: "invoke string", request: post(acts+"keep", `"s"`), status: 400, msg: "must be a JSON object"},
		{name: "invoke trailing data", request: post(acts+"keep", `{} {}`), status: 400, msg: "malformed"},
		{name: "invoke 10k deep", request: post(acts+"keep", deep10k), status: 400, msg: "deeper than the limit of 512 levels"},
		{name: "invoke 10k deep non-blocking", request: post(acts+"keep?blocking=false", deep10k), status: 400, msg: "deeper than the limit"},
		{name: "invoke 10k deep array", request: post(acts+"keep", nested(10_000)), status: 400, msg: "deeper than the limit"},
		{name: "invoke 513 deep", request: post(acts+"keep", deep513), status: 400, msg: "deeper than the limit"},
		{name: "invoke 100 MB", request: request{as: "alice", method: "POST", path: acts + "keep", body: huge(100 << 20)}, status: 413, msg: "too large"},
		{name: "invoke 2 MB", request: request{as: "alice", method: "POST", path: acts + "keep", body: huge(2 << 20)}, status: 413, msg: "too large"},
		{name: "invoke bad blocking", request: post(acts+"keep?blocking=sometimes", `{}`), status: 400, msg: "blocking"},
		{name: "invoke missing action", request: post(acts+"nope", `{}`), status: 404, msg: "does not exist"},
		// Bodies of fire.
		{name: "fire truncated", request: post("/api/v1/namespaces/_/triggers/t", `{"a":[`), status: 400, msg: "malformed"},
		{name: "fire 10k deep", request: post("/api/v1/namespaces/_/triggers/t", deep10k), status: 400, msg: "deeper than the limit"},
		{name: "fire 9,999 deep", request: post("/api/v1/namespaces/_/triggers/t", nested(9_999)), status: 400, msg: "deeper than the limit"},
		{name: "fire 100 MB", request: request{as: "alice", method: "POST", path: "/api/v1/namespaces/_/triggers/t", body: huge(100 << 20)}, status: 413, msg: "too large"},
		{name: "fire array", request: post("/api/v1/namespaces/_/triggers/t", `[]`), status: 400, msg: "must be a JSON object"},
		{name: "fire missing trigger", request: post("/api/v1/namespaces/_/triggers/nope", `{}`), status: 404, msg: "does not exist"},
		// Bodies of puts.
		{name: "put action truncated", request: put(acts+"x", `{"exec":{"kind":"nodejs:default","code":"`), status: 400, msg: "malformed"},
		{name: "put action 100 MB", request: request{as: "alice", method: "PUT", path: acts + "x", body: huge(100 << 20)}, status: 413, msg: "too large"},
		{name: "put action deep parameter", request: put(acts+"x", params(nested(9_990))), status: 400, msg: "deeper than the limit"},
		{name: "put action deep annotation", request: put(acts+"x", `{"exec":{"kind":"nodejs:default","code":"x"},"annotations":[{"key":"a","value":`+nested(600)+`}]}`), status: 400, msg: "deeper than the limit"},
		{name: "put action wrong type", request: put(acts+"x", `{"exec":{"kind":["nodejs"]}}`), status: 400, msg: "exec.kind"},
		{name: "put action huge parameters", request: put(acts+"x", params(`"`+strings.Repeat("p", 1<<20+10)+`"`)), status: 413, msg: "parameters"},
		{name: "put trigger deep", request: put("/api/v1/namespaces/_/triggers/x", `{"parameters":[{"key":"a","value":`+nested(9_000)+`}]}`), status: 400, msg: "deeper than the limit"},
		{name: "put package deep", request: put("/api/v1/namespaces/_/packages/x", `{"parameters":[{"key":"a","value":`+nested(700)+`}]}`), status: 400, msg: "deeper than the limit"},
		{name: "put rule truncated", request: put("/api/v1/namespaces/_/rules/x", `{"trigger":`), status: 400, msg: "malformed"},
		{name: "put rule deep", request: put("/api/v1/namespaces/_/rules/x", `{"trigger":"/alice/t","action":"/alice/keep","x":`+nested(10_000)+`}`), status: 400, msg: "deeper than the limit"},
		// Names.
		{name: "name 10k chars", request: put(acts+long, seq("/alice/keep")), status: 400, msg: "name"},
		{name: "name with NUL", request: put(acts+"a%00b", seq("/alice/keep")), status: 400, msg: "name"},
		{name: "name with encoded slashes", request: put(acts+"a%2Fb%2Fc%2Fd", seq("/alice/keep")), status: 400, msg: "name"},
		{name: "name escaping with encoded ../", request: put(acts+"..%2F..%2Fbob%2Fx", seq("/alice/keep")), status: 400, msg: "path"},
		{name: "name of dots encoded", request: get(acts + "%2E%2E"), status: 400, msg: "path"},
		{name: "name with .. segment", request: get(acts + "../../bob/actions/x"), status: 400, msg: "path"},
		{name: "namespace ..", request: get("/api/v1/namespaces/../actions"), status: 400, msg: "path"},
		{name: "trigger name 10k", request: put("/api/v1/namespaces/_/triggers/"+long, `{}`), status: 400, msg: "name"},
		{name: "trigger name NUL", request: put("/api/v1/namespaces/_/triggers/t%00", `{}`), status: 400, msg: "name"},
		{name: "package name with slash", request: put("/api/v1/namespaces/_/packages/a%2Fb", `{}`), status: 400, msg: "name"},
		{name: "rule naming another namespace's trigger", request: put("/api/v1/namespaces/_/rules/x", `{"trigger":"/bob/t","action":"/alice/keep"}`), status: 403, msg: "not authorized"},
		{name: "action of another namespace", request: get("/api/v1/namespaces/bob/actions/x"), status: 403, msg: "not authorized"},
		{name: "put into another namespace", request: put("/api/v1/namespaces/pub/actions/shared/x", seq("/alice/keep")), status: 403, msg: "not authorized"},
		{name: "activation id traversal", request: get("/api/v1/namespaces/_/activations/..%2F..%2Fx"), status: 400, msg: "path"},
		{name: "activation id 10k", request: get("/api/v1/namespaces/_/activations/" + long), status: 400, msg: "activationId"},
		// Paging.
		{name: "actions limit=-1", request: get(acts + "?limit=-1"), status: 400, msg: "limit"},
		{name: "actions skip=-1", request: get(acts + "?skip=-1"), status: 400, msg: "skip"},
		{name: "actions limit huge", request: get(acts + "?limit=99999999999999999999999"), status: 400, msg: "limit"},
		{name: "actions limit=abc", request: get(acts + "?limit=abc"), status: 400, msg: "limit"},
		{name: "activations limit=-1", request: get("/api/v1/namespaces/_/activations?limit=-1"), status: 400, msg: "limit"},
		{name: "activations skip=-1", request: get("/api/v1/namespaces/_/activations?skip=-1"), status: 400, msg: "skip"},
		{name: "activations limit=201", request: get("/api/v1/namespaces/_/activations?limit=201"), status: 400, msg: "limit"},
		{name: "triggers skip=-1", request: get("/api/v1/namespaces/_/triggers?skip=-1"), status: 400, msg: "skip"},
		{name: "rules limit=-1", request: get("/api/v1/namespaces/_/rules?limit=-1"), status: 400, msg: "limit"},
		{name: "packages limit=-1", request: get("/api/v1/namespaces/_/packages?limit=-1"), status: 400, msg: "limit"},
		// Compositions.
		{name: "sequence of itself", request: put(acts+"s3", seq("/alice/s3")), status: 400, msg: "exec.components"},
		{name: "sequence cycle", request: put(acts+"s2?overwrite=true", seq("/alice/s1")), status: 400, msg: "exec.components"},
		{name: "sequence too long", request: put(acts+"s4", seq(strings.Split(strings.Repeat("/alice/keep,", 51), ",")[:51]...)), status: 400, msg: "exec.components"},
		{name: "sequence of a missing action", request: put(acts+"s5", seq("/alice/nope")), status: 400, msg: "exec.components"},
		// Authentication and methods.
		{name: "no credentials", request: request{method: "GET", path: acts}, status: 401, msg: "requires authentication"},
		{name: "garbage credentials", request: request{auth: "Basic !!!", method: "GET", path: acts}, status: 401, msg: "authentication"},
		{name: "long credentials", request: request{auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(long+":"+long)), method: "GET", path: acts}, status: 401, msg: "authentication"},
		{name: "unknown method", request: request{as: "alice", method: "BREW", path: acts + "keep"}, status: 405, msg: "method"},
		// Web actions.
		{name: "web 10k deep", request: request{method: "POST", path: "/api/v1/web/alice/default/web.json", body: text(deep10k)}, status: 400, msg: "deeper than the limit"},
		{name: "web 10k deep array", request: request{method: "POST", path: "/api/v1/web/alice/default/web.json", body: text(nested(10_000))}, status: 400, msg: "deeper than the limit"},
		{name: "web truncated", request: request{method: "POST", path: "/api/v1/web/alice/default/web.json", body: text(`{"a":`)}, status: 400, msg: "malformed"},
		{name: "web 100 MB", request: request{method: "POST", path: "/api/v1/web/alice/default/web.json", body: huge(100 << 20)}, status: 413, msg: "too large"},
		{name: "web missing", request: request{method: "GET", path: "/api/v1/web/alice/default/nope.json"}, status: 404, msg: "does not exist"},
		{name: "web not exported", request: request{method: "GET", path: "/api/v1/web/alice/default/keep.json"}, status: 404, msg: "does not exist"},
	}
}

// activationCase is an attack that runs: a blocking invoke answering a
// failed activation (502) whose result's error says why.
type activationCase struct {
	name, as, path, msg string
}

var activationCases = []activationCase{
	{"deep result of a published action, invoked by another namespace", "bob", "/api/v1/namespaces/pub/actions/shared/deep", "deeper than the limit of 512 levels"},
	{"deep result of one's own action", "pub", "/api/v1/namespaces/_/actions/shared/deep", "deeper than the limit of 512 levels"},
	{"1,000 levels from Node, invoked by another namespace", "bob", "/api/v1/namespaces/pub/actions/shared/deepjs", "deeper than the limit of 512 levels"},
	{"conductor that never ends", "alice", "/api/v1/namespaces/_/actions/loop", "Too many"},
	{"conductor that runs itself", "alice", "/api/v1/namespaces/_/actions/self", "Too many"},
	{"zip bomb", "alice", "/api/v1/namespaces/_/actions/bomb", "error uncompressing the action archive"},
}

func TestHostileRequests(t *testing.T) {
	tg := start(t, "alice", "bob", "pub")
	kept := setup(t, tg)
	keepBefore := tg.must(t, http.StatusOK, request{as: "alice", method: "GET", path: "/api/v1/namespaces/_/actions/keep"})
	triggerActs := func() int {
		t.Helper()
		out := tg.must(t, http.StatusOK, request{as: "alice", method: "GET", path: "/api/v1/namespaces/_/activations?name=t&limit=200"})
		var list []json.RawMessage
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("activation list %s: %v", out, err)
		}
		return len(list)
	}
	firesBefore := triggerActs()

	all := cases(t)
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			status, out, err := tg.do(t, tc.request)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			var body struct {
				Error string `json:"error"`
				Code  string `json:"code"`
			}
			if err := json.Unmarshal(out, &body); err != nil || body.Error == "" || body.Code == "" {
				t.Fatalf("status %d, body %.300s is not an {\"error\",\"code\"} object (%v)", status, out, err)
			}
			if status != tc.status || !strings.Contains(body.Error, tc.msg) {
				t.Fatalf("%d %.300s, want %d with an error containing %q", status, body.Error, tc.status, tc.msg)
			}
		})
	}
	for _, ac := range activationCases {
		t.Run(ac.name, func(t *testing.T) {
			status, out, err := tg.do(t, request{as: ac.as, method: "POST", path: ac.path + "?blocking=true", body: text(`{}`)})
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			var act struct {
				ActivationID string `json:"activationId"`
				Response     struct {
					Success bool            `json:"success"`
					Result  json.RawMessage `json:"result"`
				} `json:"response"`
			}
			if err := json.Unmarshal(out, &act); err != nil || status != http.StatusBadGateway || act.Response.Success ||
				!strings.Contains(string(act.Response.Result), ac.msg) {
				t.Fatalf("%d %.2000s (%v), want 502 with a failed activation whose result says %q", status, out, err, ac.msg)
			}
			// The caller's list and the record itself still decode.
			tg.must(t, http.StatusOK, request{as: ac.as, method: "GET", path: "/api/v1/namespaces/_/activations?docs=true"})
			tg.must(t, http.StatusOK, request{as: ac.as, method: "GET", path: "/api/v1/namespaces/_/activations/" + act.ActivationID})
		})
	}
	if n := len(all) + len(activationCases); n < 60 {
		t.Errorf("%d hostile requests, want 60 or more", n)
	}

	// Alive, and what was there before is intact.
	tg.must(t, http.StatusOK, request{method: "GET", path: "/api/v1"})
	if after := tg.must(t, http.StatusOK, request{as: "alice", method: "GET", path: "/api/v1/namespaces/_/actions/keep"}); !bytes.Equal(after, keepBefore) {
		t.Errorf("action keep changed:\n%s\nwas\n%s", after, keepBefore)
	}
	tg.must(t, http.StatusOK, request{as: "alice", method: "GET", path: "/api/v1/namespaces/_/activations/" + kept})
	for _, p := range []string{"actions/s1", "actions/s2", "triggers/t", "rules/r"} {
		tg.must(t, http.StatusOK, request{as: "alice", method: "GET", path: "/api/v1/namespaces/_/" + p})
	}
	tg.must(t, http.StatusOK, request{as: "pub", method: "GET", path: "/api/v1/namespaces/_/packages/shared"})
	for _, ns := range []string{"alice", "bob", "pub"} {
		tg.must(t, http.StatusOK, request{as: ns, method: "GET", path: "/api/v1/namespaces/_/activations?docs=true&limit=200"})
	}
	if got := triggerActs(); got != firesBefore {
		t.Errorf("trigger t has %d activations after the refused fires, had %d", got, firesBefore)
	}
}
