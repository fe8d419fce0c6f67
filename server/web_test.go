package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// webCall is one request to a web action URL (below /api/v1/web/).
type webCall struct {
	method, path string
	header       map[string]string
	body         string
	// auth, when set, sends these Basic credentials.
	auth *tenant
}

type webReply struct {
	status int
	header http.Header
	body   []byte
}

func (r webReply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func web(t testing.TB, srv *Server, c webCall) webReply {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodGet
	}
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), c.method, "http://"+srv.Addr()+"/api/v1/web/"+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.auth != nil {
		req.SetBasicAuth(c.auth.creds.UUID, c.auth.creds.Key)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return webReply{status: resp.StatusCode, header: resp.Header, body: body}
}

// noRedirects answers redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// webExport is the annotations `wisp action create --web true` sets.
var webExport = map[string]any{"web-export": true, "raw-http": false, "final": true}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

const (
	argsJS  = `function main(p) { return {response: p} }`
	proxyJS = `function main(p) { return p.result }` // answers what the caller asks for
)

func TestWebActionExtensions(t *testing.T) {
	srv, ts := startTenants(t, "owner")
	o := ts["owner"]
	o.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/demo", map[string]any{})
	o.action(t, "demo/args", argsJS, nil, webExport)
	o.action(t, "proxy", `function main(p) { return JSON.parse(p.r) }`, nil, with(webExport, "final", false))

	// proxyPath asks the proxy action to return result.
	proxyPath := func(ext string, result any) string {
		b, _ := json.Marshal(result)
		return "owner/default/proxy" + ext + "?r=" + url.QueryEscape(string(b))
	}
	tests := []struct {
		name       string
		call       webCall
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"json", webCall{path: proxyPath(".json", map[string]any{"a": 1})}, 200, "application/json", `{"a":1}`},
		{"json projection", webCall{path: "owner/demo/args.json/response/__ow_path"}, 400, "application/json", "Response is not valid 'application/json'."},
		{"json missing projection", webCall{path: "owner/demo/args.json/nothing"}, 404, "application/json", "Response does not include requested property."},
		{"text projection", webCall{path: "owner/demo/args.text/response/name?name=Jane"}, 200, "text/plain; charset=UTF-8", "Jane"},
		{"text default field", webCall{path: proxyPath(".text", map[string]any{"text": "plain"})}, 200, "text/plain; charset=UTF-8", "plain"},
		{"text number", webCall{path: proxyPath(".text/n", map[string]any{"n": 42})}, 200, "text/plain; charset=UTF-8", "42"},
		{"text missing field", webCall{path: proxyPath(".text", map[string]any{"other": 1})}, 404, "application/json", "Response does not include requested property."},
		{"html default field", webCall{path: proxyPath(".html", map[string]any{"html": "<p>hi</p>"})}, 200, "text/html; charset=UTF-8", "<p>hi</p>"},
		{"html body field", webCall{path: proxyPath(".html", map[string]any{"body": "<p>body</p>"})}, 200, "text/html; charset=UTF-8", "<p>body</p>"},
		{"html not a string", webCall{path: proxyPath(".html", map[string]any{"html": 1})}, 400, "application/json", "Response is not valid 'text/html'."},
		{"svg", webCall{path: proxyPath(".svg", map[string]any{"svg": "<svg/>"})}, 200, "image/svg+xml", "<svg/>"},
		{"http default extension", webCall{path: proxyPath("", map[string]any{"body": "<b>x</b>"})}, 200, "text/html; charset=UTF-8", "<b>x</b>"},
		{"http status and type", webCall{path: proxyPath(".http", map[string]any{"statusCode": 201, "headers": map[string]any{"Content-Type": "text/plain"}, "body": "made"})}, 201, "text/plain; charset=UTF-8", "made"},
		{"http status as string", webCall{path: proxyPath(".http", map[string]any{"statusCode": "202", "body": "ok"})}, 202, "text/html; charset=UTF-8", "ok"},
		{"http JSON body", webCall{path: proxyPath(".http", map[string]any{"body": map[string]any{"k": "v"}})}, 200, "application/json", `{"k":"v"}`},
		{"http base64 JSON", webCall{path: proxyPath(".http", map[string]any{"headers": map[string]any{"content-type": "application/json"}, "body": base64.StdEncoding.EncodeToString([]byte(`{"b":64}`))})}, 200, "application/json; charset=UTF-8", `{"b":64}`},
		{"http no body", webCall{path: proxyPath(".http", map[string]any{"headers": map[string]any{"X-A": "1"}})}, 204, "", ""},
		{"http bad status", webCall{path: proxyPath(".http", map[string]any{"statusCode": 1234})}, 400, "application/json", "Response is not valid 'message/http'."},
		{"http bad headers", webCall{path: proxyPath(".http", map[string]any{"headers": []int{1}})}, 400, "application/json", "Response is not valid 'message/http'."},
		{"http bad binary", webCall{path: proxyPath(".http", map[string]any{"headers": map[string]any{"Content-Type": "image/png"}, "body": "not base64!"})}, 400, "application/json", "Response type in header did not match generated content type."},
		{"http JSON with text type", webCall{path: proxyPath(".http", map[string]any{"headers": map[string]any{"Content-Type": "text/plain"}, "body": []int{1}})}, 400, "application/json", "Response type in header did not match generated content type."},
		{"http unknown content type", webCall{path: proxyPath(".http", map[string]any{"headers": map[string]any{"Content-Type": "nonsense"}, "body": "x"})}, 400, "application/json", "Response did not specify a known content-type."},
		{"application error http", webCall{path: proxyPath(".http", map[string]any{"error": map[string]any{"statusCode": 418, "body": "teapot"}})}, 418, "text/html; charset=UTF-8", "teapot"},
		{"application error json ignores projection", webCall{path: proxyPath(".json/a/b", map[string]any{"error": map[string]any{"why": "no"}})}, 200, "application/json", `{"why":"no"}`},
		{"application error text", webCall{path: proxyPath(".text", map[string]any{"error": "plain failure"})}, 200, "text/plain; charset=UTF-8", "plain failure"},
		{"developer error", webCall{path: proxyPath(".json", "not an object")}, 400, "application/json", "There was an error processing your request."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := web(t, srv, tt.call)
			if r.status != tt.wantStatus || r.header.Get("Content-Type") != tt.wantType {
				t.Fatalf("%s = %d %q %s, want %d %q", tt.call.path, r.status, r.header.Get("Content-Type"), r.body, tt.wantStatus, tt.wantType)
			}
			got := string(r.body)
			if strings.HasPrefix(tt.wantType, "application/json") && r.status >= 400 {
				got, _ = r.json(t)["error"].(string)
			}
			if got != tt.wantBody {
				t.Fatalf("body = %q, want %q", got, tt.wantBody)
			}
		})
	}

	t.Run("http headers and cookies", func(t *testing.T) {
		r := web(t, srv, webCall{path: proxyPath(".http", map[string]any{
			"statusCode": 302,
			"headers":    map[string]any{"Location": "http://openwhisk.org", "Set-Cookie": []string{"a=1", "b=2"}, "X-N": 7, "X-B": true},
		})})
		if r.status != http.StatusFound || r.header.Get("Location") != "http://openwhisk.org" ||
			strings.Join(r.header.Values("Set-Cookie"), ";") != "a=1;b=2" || r.header.Get("X-N") != "7" || r.header.Get("X-B") != "true" {
			t.Fatalf("redirect = %d %v", r.status, r.header)
		}
	})
	t.Run("the activation belongs to the owner", func(t *testing.T) {
		r := web(t, srv, webCall{path: "owner/demo/args.json"})
		id := r.header.Get("X-OpenWhisk-Activation-Id")
		act := o.activation(t, id)
		if act.Namespace != "owner/demo" && act.Namespace != "owner" {
			t.Fatalf("activation namespace = %q", act.Namespace)
		}
	})
}

func TestWebActionRequestArguments(t *testing.T) {
	srv, ts := startTenants(t, "owner", "other")
	o := ts["owner"]
	o.action(t, "args", argsJS, map[string]any{"fixed": "F"}, with(webExport, "final", false))
	o.action(t, "raw", argsJS, nil, with(webExport, "raw-http", true))

	response := func(t *testing.T, r webReply) map[string]any {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		m, _ := r.json(t)["response"].(map[string]any)
		return m
	}
	t.Run("get", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{path: "owner/default/args.json?name=Jane&fixed=Q", header: map[string]string{"X-Custom": "c"}}))
		hs, _ := m["__ow_headers"].(map[string]any)
		if m["__ow_method"] != "get" || m["__ow_path"] != "" || m["name"] != "Jane" || m["fixed"] != "Q" ||
			hs["x-custom"] != "c" || hs["host"] == nil || m["__ow_user"] != nil || m["__ow_body"] != nil || m["__ow_query"] != nil {
			t.Fatalf("arguments = %v", m)
		}
	})
	t.Run("path", func(t *testing.T) {
		r := web(t, srv, webCall{path: "owner/default/args.text/response/__ow_path"})
		if r.status != http.StatusOK || string(r.body) != "/response/__ow_path" {
			t.Fatalf("__ow_path = %d %s", r.status, r.body)
		}
	})
	t.Run("json body wins over the query", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{method: http.MethodPost, path: "owner/default/args.json?name=Q&q=1",
			header: map[string]string{"Content-Type": "application/json"}, body: `{"name":"Jane","n":2}`}))
		if m["__ow_method"] != "post" || m["name"] != "Jane" || m["q"] != "1" || m["n"] != float64(2) {
			t.Fatalf("arguments = %v", m)
		}
	})
	t.Run("json array body", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{method: http.MethodPut, path: "owner/default/args.json",
			header: map[string]string{"Content-Type": "application/json"}, body: `[1,2]`}))
		if b, _ := json.Marshal(m["__ow_body"]); string(b) != "[1,2]" || m["__ow_method"] != "put" {
			t.Fatalf("arguments = %v", m)
		}
	})
	t.Run("form body", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{method: http.MethodPatch, path: "owner/default/args.json",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "name=Jane&a=b"}))
		if m["name"] != "Jane" || m["a"] != "b" || m["__ow_method"] != "patch" {
			t.Fatalf("arguments = %v", m)
		}
	})
	t.Run("text body", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{method: http.MethodPost, path: "owner/default/args.json",
			header: map[string]string{"Content-Type": "text/plain"}, body: "Jane"}))
		if m["__ow_body"] != "Jane" {
			t.Fatalf("arguments = %v", m)
		}
	})
	t.Run("binary body", func(t *testing.T) {
		bin := "\x89PNG\x00\x01\xff"
		m := response(t, web(t, srv, webCall{method: http.MethodPost, path: "owner/default/args.json",
			header: map[string]string{"Content-Type": "image/png"}, body: bin}))
		if m["__ow_body"] != base64.StdEncoding.EncodeToString([]byte(bin)) {
			t.Fatalf("arguments = %v", m)
		}
	})
	t.Run("raw http", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{method: http.MethodPost, path: "owner/default/raw.json?name=Jane&x=%20",
			header: map[string]string{"Content-Type": "application/json"}, body: `{"name":"Jane"}`}))
		if m["__ow_query"] != "name=Jane&x=%20" || m["__ow_body"] != "eyJuYW1lIjoiSmFuZSJ9" || m["name"] != nil {
			t.Fatalf("arguments = %v", m)
		}
		m = response(t, web(t, srv, webCall{method: http.MethodPost, path: "owner/default/raw.json",
			header: map[string]string{"Content-Type": "text/plain"}, body: "plain"}))
		if m["__ow_query"] != "" || m["__ow_body"] != "plain" {
			t.Fatalf("arguments = %v", m)
		}
		m = response(t, web(t, srv, webCall{path: "owner/default/raw.json?__ow_method=x"}))
		if m["__ow_method"] != "get" || m["__ow_body"] != "" {
			t.Fatalf("a raw action's query reached its parameters: %v", m)
		}
	})
	t.Run("another namespace's key makes __ow_user", func(t *testing.T) {
		m := response(t, web(t, srv, webCall{path: "owner/default/args.json", auth: ts["other"]}))
		if hs, _ := m["__ow_headers"].(map[string]any); m["__ow_user"] != "other" || hs["authorization"] != nil {
			t.Fatalf("arguments = %v", m)
		}
		m = response(t, web(t, srv, webCall{path: "owner/default/args.json", header: map[string]string{"Authorization": "Bearer tok"}}))
		if hs, _ := m["__ow_headers"].(map[string]any); m["__ow_user"] != nil || hs["authorization"] != "Bearer tok" {
			t.Fatalf("arguments = %v", m)
		}
		bad := &tenant{creds: ts["other"].creds}
		bad.creds.Key = "wrong"
		m = response(t, web(t, srv, webCall{path: "owner/default/args.json", auth: bad}))
		if m["__ow_user"] != nil {
			t.Fatalf("invalid credentials made a user: %v", m)
		}
	})
	t.Run("reserved parameters", func(t *testing.T) {
		for _, c := range []webCall{
			{path: "owner/default/args.json?__ow_method=x"},
			{method: http.MethodPost, path: "owner/default/args.json", header: map[string]string{"Content-Type": "application/json"}, body: `{"__ow_user":"root"}`},
		} {
			r := web(t, srv, c)
			if r.status != http.StatusBadRequest || r.json(t)["error"] != "Request defines parameters that are not allowed (e.g., reserved properties)." {
				t.Fatalf("%s = %d %s", c.path, r.status, r.body)
			}
		}
	})
	t.Run("bad bodies", func(t *testing.T) {
		for _, c := range []webCall{
			{method: http.MethodPost, path: "owner/default/args.json", header: map[string]string{"Content-Type": "application/json"}, body: `{"a":`},
			{method: http.MethodPost, path: "owner/default/args.json", header: map[string]string{"Content-Type": "???"}, body: `x`},
			{method: http.MethodPost, path: "owner/default/args.json", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `a=%zz`},
		} {
			r := web(t, srv, c)
			if r.status != http.StatusBadRequest || r.json(t)["error"] == "" {
				t.Fatalf("%s with %q = %d %s", c.header["Content-Type"], c.body, r.status, r.body)
			}
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		r := web(t, srv, webCall{method: http.MethodPost, path: "owner/default/args.json",
			header: map[string]string{"Content-Type": "text/plain"}, body: strings.Repeat("x", 1<<20+1)})
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.json(t)["error"].(string), "larger than allowed") {
			t.Fatalf("oversized body = %d %s", r.status, r.body)
		}
	})
}

func TestWebActionFinalParameters(t *testing.T) {
	srv, ts := startTenants(t, "owner")
	o := ts["owner"]
	o.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/p", map[string]any{"parameters": keyValues(map[string]any{"region": "eu"})})
	o.action(t, "p/final", argsJS, map[string]any{"name": "Jane", "unset": nil}, webExport)
	o.action(t, "p/open", argsJS, map[string]any{"name": "Jane"}, with(webExport, "final", false))
	tests := []struct {
		name string
		call webCall
		want int
	}{
		{"query overrides a final parameter", webCall{path: "owner/p/final.json?name=Eve"}, 400},
		{"body overrides a final parameter", webCall{method: http.MethodPost, path: "owner/p/final.json", header: map[string]string{"Content-Type": "application/json"}, body: `{"name":"Eve"}`}, 400},
		{"form overrides a package parameter", webCall{method: http.MethodPost, path: "owner/p/final.json", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: `region=us`}, 400},
		{"a null parameter is not final", webCall{path: "owner/p/final.json?unset=set"}, 200},
		{"other parameters pass", webCall{path: "owner/p/final.json?age=3"}, 200},
		{"without final the request wins", webCall{path: "owner/p/open.json?name=Eve"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := web(t, srv, tt.call)
			if r.status != tt.want {
				t.Fatalf("%s = %d %s, want %d", tt.call.path, r.status, r.body, tt.want)
			}
			if tt.want == 400 && r.json(t)["error"] != "Request defines parameters that are not allowed (e.g., reserved properties)." {
				t.Fatalf("error = %s", r.body)
			}
		})
	}
	r := web(t, srv, webCall{path: "owner/p/open.json?name=Eve"})
	if m, _ := r.json(t)["response"].(map[string]any); m["name"] != "Eve" || m["region"] != "eu" {
		t.Fatalf("arguments = %s", r.body)
	}
}

func TestWebActionRequireWhiskAuth(t *testing.T) {
	srv, ts := startTenants(t, "owner", "other")
	o := ts["owner"]
	o.action(t, "secret", argsJS, nil, with(webExport, "require-whisk-auth", "s3cr3t"))
	o.action(t, "number", argsJS, nil, with(webExport, "require-whisk-auth", 1234))
	o.action(t, "keyed", argsJS, nil, with(webExport, "require-whisk-auth", true))
	o.action(t, "open", argsJS, nil, with(webExport, "require-whisk-auth", false))
	tests := []struct {
		name string
		call webCall
		want int
	}{
		{"secret missing", webCall{path: "owner/default/secret.json"}, 401},
		{"secret wrong", webCall{path: "owner/default/secret.json", header: map[string]string{"X-Require-Whisk-Auth": "guess"}}, 401},
		{"secret right", webCall{path: "owner/default/secret.json", header: map[string]string{"X-Require-Whisk-Auth": "s3cr3t"}}, 200},
		{"number right", webCall{path: "owner/default/number.json", header: map[string]string{"X-Require-Whisk-Auth": "1234"}}, 200},
		{"number wrong", webCall{path: "owner/default/number.json", header: map[string]string{"X-Require-Whisk-Auth": "123"}}, 401},
		{"key missing", webCall{path: "owner/default/keyed.json"}, 401},
		{"another namespace's key", webCall{path: "owner/default/keyed.json", auth: ts["other"]}, 401},
		{"the owner's key", webCall{path: "owner/default/keyed.json", auth: o}, 200},
		{"false lets everyone in", webCall{path: "owner/default/open.json"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := web(t, srv, tt.call)
			if r.status != tt.want {
				t.Fatalf("%s = %d %s, want %d", tt.call.path, r.status, r.body, tt.want)
			}
			if tt.want == 401 && r.json(t)["error"] != "Authentication is possible but has failed or not yet been provided." {
				t.Fatalf("error = %s", r.body)
			}
		})
	}
	r := web(t, srv, webCall{path: "owner/default/keyed.json", auth: o})
	if m, _ := r.json(t)["response"].(map[string]any); m["__ow_user"] != "owner" {
		t.Fatalf("arguments = %s", r.body)
	}
}

func TestWebActionOptionsAndCORS(t *testing.T) {
	srv, ts := startTenants(t, "owner")
	o := ts["owner"]
	o.action(t, "cors", argsJS, nil, with(webExport, "require-whisk-auth", "s"))
	o.action(t, "custom", `function main(p) {
		if (p.__ow_method == "options") return {statusCode: 200, headers: {"Access-Control-Allow-Origin": "example.com", "Access-Control-Allow-Methods": "OPTIONS, GET"}}
		return {body: "get"}
	}`, nil, with(webExport, "web-custom-options", true, "require-whisk-auth", "s"))

	r := web(t, srv, webCall{method: http.MethodOptions, path: "owner/default/cors.json"})
	if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("Access-Control-Allow-Methods") != "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH" ||
		r.header.Get("Access-Control-Allow-Headers") != "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent" ||
		r.header.Get("X-OpenWhisk-Activation-Id") != "" {
		t.Fatalf("OPTIONS = %d %v %s", r.status, r.header, r.body)
	}
	r = web(t, srv, webCall{method: http.MethodOptions, path: "owner/default/cors.json", header: map[string]string{"Access-Control-Request-Headers": "X-Mine"}})
	if r.header.Get("Access-Control-Allow-Headers") != "X-Mine" {
		t.Fatalf("OPTIONS did not echo the requested headers: %v", r.header)
	}
	r = web(t, srv, webCall{path: "owner/default/cors.json", header: map[string]string{"X-Require-Whisk-Auth": "s"}})
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET = %d %v", r.status, r.header)
	}
	r = web(t, srv, webCall{path: "owner/default/cors.json"})
	if r.status != http.StatusUnauthorized || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("unauthorized GET = %d %v", r.status, r.header)
	}

	// web-custom-options: the action answers OPTIONS, even unauthenticated.
	r = web(t, srv, webCall{method: http.MethodOptions, path: "owner/default/custom.http"})
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "example.com" ||
		r.header.Get("Access-Control-Allow-Methods") != "OPTIONS, GET" || r.header.Get("X-OpenWhisk-Activation-Id") == "" {
		t.Fatalf("custom OPTIONS = %d %v %s", r.status, r.header, r.body)
	}
	r = web(t, srv, webCall{path: "owner/default/custom.http", header: map[string]string{"X-Require-Whisk-Auth": "s"}})
	if r.status != http.StatusOK || string(r.body) != "get" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("custom GET = %d %v %s", r.status, r.header, r.body)
	}
	r = web(t, srv, webCall{method: http.MethodHead, path: "owner/default/custom.http", header: map[string]string{"X-Require-Whisk-Auth": "s"}})
	if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Content-Type") != "text/html; charset=UTF-8" {
		t.Fatalf("HEAD = %d %v %q", r.status, r.header, r.body)
	}
	if r := web(t, srv, webCall{method: "TRACE", path: "owner/default/custom.http"}); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("TRACE = %d %s", r.status, r.body)
	}
}

func TestWebActionNotFound(t *testing.T) {
	srv, ts := startTenants(t, "owner", "other")
	o := ts["owner"]
	o.action(t, "plain", argsJS, nil, nil)
	o.action(t, "disabled", argsJS, nil, with(webExport, "web-export", false))
	o.action(t, "web", argsJS, nil, webExport)

	for _, path := range []string{
		"owner/default/plain.json",   // not a web action
		"owner/default/disabled",     // web-export: false
		"owner/default/missing.json", // no such action
		"nobody/default/web.json",    // no such namespace
		"owner/nopkg/web.json",       // no such package
		"owner/default/web.xml",      // "web.xml" is no action
		"other/default/web.json",     // another namespace's action
		"owner/default/",
	} {
		for _, m := range []string{http.MethodGet, http.MethodOptions} {
			r := web(t, srv, webCall{method: m, path: path})
			if r.status != http.StatusNotFound || r.json(t)["error"] != "The requested resource does not exist." {
				t.Fatalf("%s %s = %d %s", m, path, r.status, r.body)
			}
		}
	}
	// Reachable from everywhere, anonymously or with another key; the
	// activation is the owner's.
	for _, caller := range []*tenant{nil, ts["other"]} {
		r := web(t, srv, webCall{path: "owner/default/web.json", auth: caller})
		if r.status != http.StatusOK {
			t.Fatalf("GET = %d %s", r.status, r.body)
		}
		if act := o.activation(t, r.header.Get("X-OpenWhisk-Activation-Id")); act.Namespace != "owner" || act.Name != "web" {
			t.Fatalf("activation = %s %s", act.Namespace, act.Name)
		}
	}
}

func TestWebActionBinaryResponse(t *testing.T) {
	srv, ts := startTenants(t, "owner")
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	ts["owner"].action(t, "png", `function main(p) { return {headers: {"Content-Type": "image/png"}, body: p.png} }`,
		map[string]any{"png": base64.StdEncoding.EncodeToString(pngBytes.Bytes())}, webExport)
	r := web(t, srv, webCall{path: "owner/default/png"})
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" || !bytes.Equal(r.body, pngBytes.Bytes()) {
		t.Fatalf("png = %d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	if _, err := png.Decode(bytes.NewReader(r.body)); err != nil {
		t.Fatalf("the answer is no PNG: %v", err)
	}
}

// BenchmarkWebAction compares a warm web action GET with the REST API's
// blocking invoke (?blocking=true&result=true) of the same Node.js action on
// the process backend, one request at a time: ns/op is the latency of each.
func BenchmarkWebAction(b *testing.B) {
	srv, ts := startTenants(b, "owner")
	o := ts["owner"]
	o.action(b, "noop", `function main(p) { return {body: "ok"} }`, nil, webExport)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	do := func(b *testing.B, req *http.Request) {
		resp, err := httpc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s = %d", req.Method, req.URL, resp.StatusCode)
		}
	}
	webURL := "http://" + srv.Addr() + "/api/v1/web/owner/default/noop.http"
	invokeURL := "http://" + srv.Addr() + "/api/v1/namespaces/_/actions/noop?blocking=true&result=true"
	b.Run("web", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, webURL, nil)
			do(b, req)
		}
	})
	b.Run("invoke", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, invokeURL, strings.NewReader("{}"))
			req.SetBasicAuth(o.creds.UUID, o.creds.Key)
			req.Header.Set("Content-Type", "application/json")
			do(b, req)
		}
	})
}
