package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// apimgmt sends one call to the apimgmt web actions the way wsk
// (openwhisk-client-go's ApiService) does: the query options, the apidoc
// body, the tenant's key.
func apimgmt(t testing.TB, srv *Server, tn *tenant, method, op string, query url.Values, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	u := "http://" + srv.Addr() + "/api/v1/web/whisk.system/apimgmt/" + op + ".http?" + query.Encode()
	req, err := http.NewRequestWithContext(context.Background(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tn != nil {
		req.SetBasicAuth(tn.creds.UUID, tn.creds.Key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body %q", method, op, raw)
	}
	return resp.StatusCode, out
}

// wskCreate is `wsk api create [-n name] BASE REL VERB ACTION --response-type T`.
func wskCreate(srv *Server, tn *tenant, name, base, rel, verb, action, respType string) (url.Values, map[string]any) {
	q := url.Values{"accesstoken": {"DUMMY TOKEN"}, "responsetype": {respType}, "spaceguid": {tn.creds.UUID}}
	pkg, act := "default", action
	if i := strings.Index(action, "/"); i >= 0 {
		pkg, act = action[:i], action[i+1:]
	}
	doc := map[string]any{
		"namespace": "_", "gatewayBasePath": base, "gatewayPath": rel, "gatewayMethod": strings.ToUpper(verb),
		"id": "API:_:" + base,
		"action": map[string]any{
			"name": action, "namespace": "_", "backendMethod": strings.ToUpper(verb),
			"backendUrl": "http://" + srv.Addr() + "/api/v1/web/_/" + pkg + "/" + act + ".http", "authkey": tn.creds.String(),
		},
	}
	if name != "" {
		doc["apiName"] = name
	}
	var params []map[string]any
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			n := seg[1 : len(seg)-1]
			params = append(params, map[string]any{"name": n, "in": "path", "description": "Default description for '" + n + "'", "required": true, "type": "string"})
		}
	}
	if params != nil {
		doc["pathParameters"] = params
	}
	return q, map[string]any{"apidoc": doc}
}

func gatewayGet(t testing.TB, method, u string, header map[string]string, body string) webReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webReply{status: resp.StatusCode, header: resp.Header, body: b}
}

const (
	helloJS = `function main({name: name = 'Serverless API'}) { return {payload: 'Hello world ' + name} }`
	booksJS = `function main(p) { return {statusCode: 200, headers: {'Content-Type': 'application/json'}, body: {path: p.__ow_path, isbn: p.isbn || null, method: p.__ow_method, q: p.q || null}} }`
)

// TestAPIGatewayLikeWsk drives the exchanges of OpenWhisk's API gateway
// walkthrough (docs/apigateway.md) as wsk makes them: create, call, list,
// export, re-import with a client id and a rate limit, delete.
func TestAPIGatewayLikeWsk(t *testing.T) {
	srv, ts := startTenants(t, "owner", "other")
	o := ts["owner"]
	o.action(t, "hello", helloJS, nil, webExport)
	o.action(t, "getBooks", booksJS, nil, webExport)
	o.action(t, "postBooks", booksJS, nil, webExport)

	q, body := wskCreate(srv, o, "", "/hello", "/world", "get", "hello", "json")
	status, ret := apimgmt(t, srv, o, http.MethodPost, "createApi", q, body)
	wantURL := "http://" + srv.Addr() + "/api/" + o.creds.UUID + "/hello"
	if status != http.StatusOK || ret["gwApiUrl"] != wantURL || ret["gwApiActivated"] != true {
		t.Fatalf("createApi = %d %v", status, ret)
	}
	op := ret["apidoc"].(map[string]any)["paths"].(map[string]any)["/world"].(map[string]any)["get"].(map[string]any)
	if x := op["x-openwhisk"].(map[string]any); op["operationId"] != "getWorld" || x["namespace"] != "owner" || x["action"] != "hello" ||
		x["url"] != "http://"+srv.Addr()+"/api/v1/web/owner/default/hello.json" {
		t.Fatalf("operation = %v", op)
	}

	r := gatewayGet(t, http.MethodGet, wantURL+"/world?name=OpenWhisk", nil, "")
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"payload":"Hello world OpenWhisk"}` || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET /hello/world = %d %v %s", r.status, r.header, r.body)
	}
	if r := gatewayGet(t, http.MethodPost, wantURL+"/world", nil, ""); r.status != 404 || !strings.Contains(string(r.body), "Verb not supported") {
		t.Fatalf("POST /hello/world = %d %s", r.status, r.body)
	}
	if r := gatewayGet(t, http.MethodOptions, wantURL+"/world", map[string]string{"Access-Control-Request-Headers": "X-Custom"}, ""); r.status != 200 ||
		r.header.Get("Access-Control-Allow-Headers") != "X-Custom" || r.header.Get("Access-Control-Allow-Methods") == "" {
		t.Fatalf("preflight = %d %v", r.status, r.header)
	}
	if r := gatewayGet(t, http.MethodGet, wantURL+"/nowhere", nil, ""); r.status != 404 {
		t.Fatalf("unknown path = %d %s", r.status, r.body)
	}

	// The book club: path parameters need --response-type http.
	for _, c := range [][4]string{{"/books/{isbn}", "get", "getBooks", "Book Club"}, {"/books", "get", "getBooks", ""}, {"/books", "post", "postBooks", ""}} {
		q, body := wskCreate(srv, o, c[3], "/club", c[0], c[1], c[2], "http")
		if status, ret := apimgmt(t, srv, o, http.MethodPost, "createApi", q, body); status != 200 {
			t.Fatalf("create %v = %d %v", c, status, ret)
		}
	}
	club := "http://" + srv.Addr() + "/api/" + o.creds.UUID + "/club"
	r = gatewayGet(t, http.MethodGet, club+"/books/978-0596517748?q=x", nil, "")
	if got := r.json(t); r.status != 200 || got["path"] != "/club/books/978-0596517748" || got["isbn"] != "978-0596517748" || got["method"] != "get" || got["q"] != "x" {
		t.Fatalf("GET book = %d %s", r.status, r.body)
	}
	r = gatewayGet(t, http.MethodPost, club+"/books", map[string]string{"Content-Type": "application/json"}, `{"isbn":"1"}`)
	if got := r.json(t); r.status != 200 || got["method"] != "post" || got["isbn"] != "1" {
		t.Fatalf("POST books = %d %s", r.status, r.body)
	}

	// wsk api list, and wsk api get "Book Club" (by name).
	status, list := apimgmt(t, srv, o, http.MethodGet, "getApi", url.Values{"accesstoken": {"DUMMY TOKEN"}, "limit": {"30"}, "skip": {"0"}, "spaceguid": {o.creds.UUID}}, nil)
	if apis, _ := list["apis"].([]any); status != 200 || len(apis) != 2 {
		t.Fatalf("list = %d %v", status, list)
	}
	status, got := apimgmt(t, srv, o, http.MethodGet, "getApi", url.Values{"basepath": {"Book Club"}}, nil)
	apis, _ := got["apis"].([]any)
	if status != 200 || len(apis) != 1 {
		t.Fatalf("get Book Club = %d %v", status, got)
	}
	swagger := apis[0].(map[string]any)["value"].(map[string]any)["apidoc"].(map[string]any)
	if swagger["basePath"] != "/club" || swagger["info"].(map[string]any)["title"] != "Book Club" || len(swagger["paths"].(map[string]any)) != 2 {
		t.Fatalf("swagger = %v", swagger)
	}
	if _, other := apimgmt(t, srv, ts["other"], http.MethodGet, "getApi", url.Values{}, nil); len(other["apis"].([]any)) != 0 {
		t.Fatalf("another namespace lists %v", other)
	}
	if r := gatewayGet(t, http.MethodGet, "http://"+srv.Addr()+"/api/"+ts["other"].creds.UUID+"/club/books", nil, ""); r.status != 404 {
		t.Fatalf("the club under another namespace id = %d %s", r.status, r.body)
	}

	// Re-import the export (wsk api create --config-file) with a client id,
	// a rate limit and CORS off.
	swagger["securityDefinitions"] = map[string]any{"client_id": map[string]any{"type": "apiKey", "name": "X-Api-Key", "in": "header", "x-client-ids": []string{"secret-id"}}}
	swagger["security"] = []any{map[string]any{"client_id": []any{}}}
	swagger["x-ibm-rate-limit"] = []any{map[string]any{"unit": "minute", "units": 1, "rate": 2}}
	swagger["x-ibm-configuration"].(map[string]any)["cors"] = map[string]any{"enabled": false}
	text, _ := json.Marshal(swagger)
	status, ret = apimgmt(t, srv, o, http.MethodPost, "createApi", url.Values{"accesstoken": {"DUMMY TOKEN"}, "spaceguid": {o.creds.UUID}},
		map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": string(text)}})
	if status != 200 {
		t.Fatalf("create from swagger = %d %v", status, ret)
	}
	if r := gatewayGet(t, http.MethodGet, club+"/books", nil, ""); r.status != 401 {
		t.Fatalf("no client id = %d %s", r.status, r.body)
	}
	key := map[string]string{"X-Api-Key": "secret-id"}
	if r := gatewayGet(t, http.MethodGet, club+"/books", key, ""); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("with client id = %d %v %s", r.status, r.header, r.body)
	}
	if r := gatewayGet(t, http.MethodGet, club+"/books", key, ""); r.status != 200 {
		t.Fatalf("second call = %d %s", r.status, r.body)
	}
	if r := gatewayGet(t, http.MethodGet, club+"/books", key, ""); r.status != 429 {
		t.Fatalf("third call in a minute = %d %s", r.status, r.body)
	}

	// wsk api delete /club /books get, then /hello entirely.
	if status, ret := apimgmt(t, srv, o, http.MethodDelete, "deleteApi", url.Values{"basepath": {"/club"}, "relpath": {"/books"}, "operation": {"GET"}}, nil); status != 200 {
		t.Fatalf("delete operation = %d %v", status, ret)
	}
	if status, ret := apimgmt(t, srv, o, http.MethodDelete, "deleteApi", url.Values{"basepath": {"/hello"}}, nil); status != 200 {
		t.Fatalf("delete API = %d %v", status, ret)
	}
	if r := gatewayGet(t, http.MethodGet, wantURL+"/world", nil, ""); r.status != 404 {
		t.Fatalf("deleted API = %d %s", r.status, r.body)
	}
	if status, ret := apimgmt(t, srv, o, http.MethodDelete, "deleteApi", url.Values{"basepath": {"/hello"}}, nil); status != 502 || ret["error"] != "API deletion failure: API '/hello' does not exist." {
		t.Fatalf("delete again = %d %v", status, ret)
	}
}

// TestAPIGatewayErrors: what createApi refuses, with OpenWhisk's status and
// message; a duplicate route replaces the first (as OpenWhisk's createApi
// does, and as its docs use to change --response-type).
func TestAPIGatewayErrors(t *testing.T) {
	srv, ts := startTenants(t, "owner")
	o := ts["owner"]
	o.action(t, "hello", helloJS, nil, webExport)
	o.action(t, "plain", helloJS, nil, nil)
	o.action(t, "books", booksJS, nil, webExport)
	badSwagger := map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": `{"swagger":"2.0","info":{"title":"x"},"paths":{}}`}}
	create := func(base, rel, verb, action, resp string) (url.Values, any) {
		return wskCreate(srv, o, "", base, rel, verb, action, resp)
	}
	for _, tc := range []struct {
		name   string
		query  url.Values
		body   any
		auth   *tenant
		status int
		msg    string
	}{
		{"missing action", nil, nil, o, 404, "Unable to get action '/owner/nope': The requested resource does not exist."},
		{"not a web action", nil, nil, o, 400, `Action '/owner/plain' is not a web action. Issue 'wsk action update "/owner/plain" --web true' to convert the action to a web action.`},
		{"bad basepath", nil, nil, o, 502, "'hello' must begin with '/'."},
		{"parameterised basepath", nil, nil, o, 502, "API creation failure: The base path (/a/{b}) cannot have parameters. Only the relative path supports path parameters."},
		{"path parameters without http", nil, nil, o, 502, "API creation failure: The action must use a response type of '.http' in order to receive the path parameters."},
		{"bad swagger", url.Values{}, badSwagger, o, 502, "swagger is missing the basePath field."},
		{"swagger not JSON", url.Values{}, map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": "{"}}, o, 502, "swagger field cannot be parsed. Ensure it is valid JSON."},
		{"no key", url.Values{}, badSwagger, nil, 401, "A valid auth key is required."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, body := tc.query, tc.body
			switch tc.name {
			case "missing action":
				q, body = create("/a", "/b", "get", "nope", "json")
			case "not a web action":
				q, body = create("/a", "/b", "get", "plain", "json")
			case "bad basepath":
				q, body = create("hello", "/b", "get", "hello", "json")
			case "parameterised basepath":
				q, body = create("/a/{b}", "/c", "get", "hello", "json")
			case "path parameters without http":
				q, body = create("/a", "/b/{id}", "get", "books", "json")
			}
			status, ret := apimgmt(t, srv, tc.auth, http.MethodPost, "createApi", q, body)
			if status != tc.status || ret["error"] != tc.msg || ret["code"] == "" {
				t.Fatalf("= %d %v, want %d %q", status, ret, tc.status, tc.msg)
			}
		})
	}

	// A duplicate route: the second create replaces the first.
	for _, target := range []string{"hello", "books"} {
		q, body := create("/dup", "/x", "get", target, "json")
		if status, ret := apimgmt(t, srv, o, http.MethodPost, "createApi", q, body); status != 200 {
			t.Fatalf("create %s = %d %v", target, status, ret)
		}
	}
	_, got := apimgmt(t, srv, o, http.MethodGet, "getApi", url.Values{"basepath": {"/dup"}}, nil)
	paths := got["apis"].([]any)[0].(map[string]any)["value"].(map[string]any)["apidoc"].(map[string]any)["paths"].(map[string]any)
	if x := paths["/x"].(map[string]any)["get"].(map[string]any)["x-openwhisk"].(map[string]any); len(paths) != 1 || x["action"] != "books" {
		t.Fatalf("after a duplicate: %v", paths)
	}
}

// BenchmarkAPIRoute compares a GET through an API route with the same GET
// to the web action it targets (/api/v1/web/…/hello.json), one request at
// a time on the process backend; the route's extra cost is the table
// read and match.
func BenchmarkAPIRoute(b *testing.B) {
	srv, ts := startTenants(b, "owner")
	o := ts["owner"]
	o.action(b, "hello", helloJS, nil, webExport)
	q, body := wskCreate(srv, o, "", "/hello", "/world", "get", "hello", "json")
	if status, ret := apimgmt(b, srv, o, http.MethodPost, "createApi", q, body); status != http.StatusOK {
		b.Fatalf("createApi = %d %v", status, ret)
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(b *testing.B, u string) {
		resp, err := httpc.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s = %d", u, resp.StatusCode)
		}
	}
	routeURL := "http://" + srv.Addr() + "/api/" + o.creds.UUID + "/hello/world"
	webURL := "http://" + srv.Addr() + "/api/v1/web/owner/default/hello.json"
	b.Run("route", func(b *testing.B) {
		for b.Loop() {
			get(b, routeURL)
		}
	})
	b.Run("web", func(b *testing.B) {
		for b.Loop() {
			get(b, webURL)
		}
	})
}
