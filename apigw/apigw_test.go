package apigw

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/entity"
)

// wskBody is a createApi body as `wsk api create BASE REL VERB ACTION`
// sends it.
func wskBody(base, rel, verb, action string) string {
	doc := map[string]any{
		"namespace": "_", "gatewayBasePath": base, "gatewayPath": rel, "gatewayMethod": verb,
		"id": "API:_:" + base,
		"action": map[string]any{
			"name": action, "namespace": "_", "backendMethod": verb,
			"backendUrl": "https://host/api/v1/web/_/default/" + action + ".http", "authkey": "u:k",
		},
	}
	if ps := PathParams(rel); len(ps) > 0 {
		var params []map[string]any
		for _, p := range ps {
			params = append(params, map[string]any{"name": p, "in": "path", "required": true, "type": "string"})
		}
		doc["pathParameters"] = params
	}
	b, _ := json.Marshal(map[string]any{"apidoc": doc})
	return string(b)
}

func TestParseCreateErrors(t *testing.T) {
	swagger := func(s string) string {
		b, _ := json.Marshal(map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": s}})
		return string(b)
	}
	for _, tc := range []struct {
		name, body, respType, want string
	}{
		{"no apidoc", `{}`, "", "apidoc is required."},
		{"apidoc not JSON", `{"apidoc":"{nope"}`, "", "apidoc field cannot be parsed. Ensure it is valid JSON."},
		{"apidoc a number", `{"apidoc":3}`, "", "apidoc field is of type number and should be a JSON object or a JSON string."},
		{"no namespace", `{"apidoc":{"gatewayBasePath":"/a"}}`, "", "apidoc is missing the namespace field"},
		{"no basepath", `{"apidoc":{"namespace":"_"}}`, "", "apidoc is missing the gatewayBasePath field"},
		{"no path", `{"apidoc":{"namespace":"_","gatewayBasePath":"/a"}}`, "", "apidoc is missing the gatewayPath field"},
		{"no action", `{"apidoc":{"namespace":"_","gatewayBasePath":"/a","gatewayPath":"/b","gatewayMethod":"get"}}`, "", "apidoc is missing the action field."},
		{"bad basepath", wskBody("hello", "/world", "GET", "hello"), "", "'hello' must begin with '/'."},
		{"parameterised basepath", wskBody("/a/{b}", "/world", "GET", "hello"), "", "API creation failure: The base path (/a/{b}) cannot have parameters. Only the relative path supports path parameters."},
		{"bad relpath", wskBody("/a", "world", "GET", "hello"), "", "'world' must begin with '/'."},
		{"bad verb", wskBody("/a", "/b", "FETCH", "hello"), "", "'FETCH' is not a valid API verb.  Valid values are: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"},
		{"bad response type", wskBody("/a", "/b", "GET", "hello"), "xml", "Invalid response type 'xml'. Valid values are: html, http, json, svg, text"},
		{"path params need http", wskBody("/a", "/books/{id}", "GET", "hello"), "json", "API creation failure: The action must use a response type of '.http' in order to receive the path parameters."},
		{"undeclared path param", strings.Replace(wskBody("/a", "/books/{id}", "GET", "hello"), `"name":"id"`, `"name":"isbn"`, 1), "http", "API creation failure: The parameter 'id' defined in path '/books/{id}' does not match any of the parameters defined for the path in the swagger file."},
		{"swagger and basepath", `{"apidoc":{"namespace":"_","gatewayBasePath":"/a","swagger":{}}}`, "", "swagger and gatewayBasePath are mutually exclusive and cannot be specified together."},
		{"swagger not JSON", swagger("{not json"), "", "swagger field cannot be parsed. Ensure it is valid JSON."},
		{"swagger a boolean", `{"apidoc":{"namespace":"_","swagger":true}}`, "", "swagger field is boolean and should be an object or a JSON string."},
		{"swagger without basePath", swagger(`{"swagger":"2.0","info":{},"paths":{}}`), "", "swagger is missing the basePath field."},
		{"swagger without paths", swagger(`{"swagger":"2.0","info":{},"basePath":"/a"}`), "", "swagger is missing the paths field."},
		{"swagger without info", swagger(`{"swagger":"2.0","basePath":"/a","paths":{}}`), "", "swagger is missing the info field."},
		{"swagger without version", swagger(`{"info":{},"basePath":"/a","paths":{}}`), "", "Swagger file is invalid (missing basePath, info, paths, or swagger fields)"},
		{"swagger basePath without slash", swagger(`{"swagger":"2.0","info":{},"basePath":"a","paths":{}}`), "", "Swagger file basePath must start with a leading slash (/)"},
		{"swagger operation without action", swagger(`{"swagger":"2.0","info":{},"basePath":"/a","paths":{"/b":{"get":{"operationId":"getB","responses":{}}}}}`), "", "API creation failure: operation 'get' of path '/b' names no web action"},
		{"swagger undeclared param", swagger(`{"swagger":"2.0","info":{},"basePath":"/a","paths":{"/b/{id}":{"get":{"x-openwhisk":{"namespace":"_","action":"x","url":"https://h/api/v1/web/_/default/x.http"}}}}}`), "", "API creation failure: The parameter 'id' defined in path '/b/{id}' does not match any"},
		{"swagger unsupported security", swagger(`{"swagger":"2.0","info":{},"basePath":"/a","paths":{},"securityDefinitions":{"o":{"type":"oauth2"}},"security":[{"o":[]}]}`), "", "API creation failure: security scheme 'o' is not supported"},
		{"swagger bad rate limit", swagger(`{"swagger":"2.0","info":{},"basePath":"/a","paths":{},"x-ibm-rate-limit":[{"rate":0,"unit":"minute","units":1}]}`), "", "API creation failure: x-ibm-rate-limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCreate([]byte(tc.body), "ns", tc.respType)
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Msg, tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestParseCreateDepth: an API definition nesting deeper than
// entity.MaxJSONDepth is refused (400, naming the field), whether the
// apidoc is an object or a string, or the swagger inside it: the table
// wraps a route's parameters a few levels deeper, and one stored within
// a few levels of Go's 10,000 no longer decodes, leaving the namespace's
// APIs unreadable.
func TestParseCreateDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	swagger := func(params string) string {
		return `{"swagger":"2.0","basePath":"/d","info":{"title":"d"},"paths":{"/p":{"get":{"parameters":` + params +
			`,"x-openwhisk":{"namespace":"_","action":"a","url":"https://h/api/v1/web/_/default/a.json"}}}}}`
	}
	asString := func(doc string) string {
		b, _ := json.Marshal(map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": doc}})
		return string(b)
	}
	for _, tt := range []struct {
		name, body, field string // field "" when accepted
	}{
		{"shallow swagger", asString(swagger(nest(10))), ""},
		{"deep swagger string", asString(swagger(nest(600))), "apidoc.swagger"},
		{"deep swagger object", `{"apidoc":{"namespace":"_","swagger":` + swagger(nest(600)) + `}}`, "apidoc"},
		{"deep apidoc string", `{"apidoc":` + strconv.Quote(`{"namespace":"_","x":`+nest(600)+`}`) + `}`, "apidoc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCreate([]byte(tt.body), "ns", "")
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe, ok := entity.AsFieldError(err)
			if !ok || fe.Field != tt.field || !strings.Contains(fe.Reason, "deeper than the limit") {
				t.Fatalf("err = %v, want a depth error naming %s", err, tt.field)
			}
		})
	}
}

func TestEndpointsBuildAPI(t *testing.T) {
	tbl := &Table{}
	for _, c := range []struct{ base, rel, verb, action, resp string }{
		{"/club", "/books/{isbn}", "get", "getBooks", "http"},
		{"/club", "/books", "get", "lib/getBooks", "http"},
		{"/club", "/books", "post", "postBooks", "json"},
		{"/club", "/books", "post", "postBooks2", "json"}, // the same operation again replaces it
		{"/", "/ping", "get", "ping", ""},
	} {
		ch, err := ParseCreate([]byte(wskBody(c.base, c.rel, c.verb, c.action)), "alice", c.resp)
		if err != nil {
			t.Fatal(err)
		}
		ch.Apply(tbl, 1)
	}
	club := tbl.Lookup("/club")
	if club == nil || len(club.Routes) != 3 || club.Name != "/club" {
		t.Fatalf("club = %+v", club)
	}
	for _, tc := range []struct {
		method, path string
		outcome      Outcome
		action       string
		params       []Param
	}{
		{"GET", "/club/books/978-0596517748", Found, "/alice/getBooks", []Param{{"isbn", "978-0596517748"}}},
		{"GET", "/club/books", Found, "/alice/lib/getBooks", nil},
		{"POST", "/club/books", Found, "/alice/postBooks2", nil},
		{"DELETE", "/club/books", NoMethod, "", nil},
		{"GET", "/club/nothing", NoAPI, "", nil},
		{"GET", "/clubhouse/books", NoAPI, "", nil},
		{"GET", "/ping", Found, "/alice/ping", nil},
	} {
		m, out := tbl.Find(tc.method, tc.path)
		if out != tc.outcome {
			t.Errorf("%s %s: outcome %d, want %d", tc.method, tc.path, out, tc.outcome)
			continue
		}
		if out == Found && (m.Route.Action.String() != tc.action || len(m.Params) != len(tc.params) || (len(tc.params) > 0 && m.Params[0] != tc.params[0])) {
			t.Errorf("%s %s: %s %v, want %s %v", tc.method, tc.path, m.Route.Action, m.Params, tc.action, tc.params)
		}
	}
}

func TestLiteralSegmentWinsOverParameter(t *testing.T) {
	tbl := &Table{APIs: []*API{{BasePath: "/a", Routes: []Route{
		{Path: "/books/{id}", Method: "GET", Action: Target{Namespace: "n", Name: "byID"}},
		{Path: "/books/new", Method: "GET", Action: Target{Namespace: "n", Name: "fresh"}},
	}}}}
	tbl.compile()
	if m, _ := tbl.Find("GET", "/a/books/new"); m.Route == nil || m.Route.Action.Name != "fresh" {
		t.Fatalf("matched %+v", m.Route)
	}
	if m, _ := tbl.Find("GET", "/a/books/7"); m.Route == nil || m.Route.Action.Name != "byID" {
		t.Fatalf("matched %+v", m.Route)
	}
}

func TestSwaggerRoundTrip(t *testing.T) {
	tbl := &Table{}
	ch, err := ParseCreate([]byte(wskBody("/club", "/books/{isbn}", "get", "getBooks")), "alice", "http")
	if err != nil {
		t.Fatal(err)
	}
	api := ch.Apply(tbl, 1)
	api.Security = &Security{Scheme: "client_id", Header: "X-Api-Key", ClientIDs: []string{"k1"}}
	api.RateLimit = &RateLimit{Rate: 5, Unit: "minute", Units: 1}
	api.CORS = CORS{Enabled: false}
	sw := api.Export("https://wisp.test")
	b, err := json.Marshal(sw)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"operationId":"getBooksIsbn"`,
		`"x-openwhisk":{"namespace":"alice","package":"","action":"getBooks","url":"https://wisp.test/api/v1/web/alice/default/getBooks.http"}`,
		`"target-url":"https://wisp.test/api/v1/web/alice/default/getBooks.http$(request.path)"`,
		`"x-ibm-rate-limit":[{"rate":5,"unit":"minute","units":1}]`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("export lacks %s:\n%s", want, b)
		}
	}
	back, err := ImportSwagger(b, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Routes) != 1 || back.Routes[0].ResponseType != "http" || back.Routes[0].Action != api.Routes[0].Action ||
		back.CORS.Enabled || back.Security == nil || back.Security.ClientIDs[0] != "k1" || back.RateLimit.Rate != 5 {
		t.Fatalf("imported %+v", back)
	}
	// Without x-openwhisk, the gateway's target-url names the action.
	noX := strings.Replace(string(b), `"x-openwhisk"`, `"x-other"`, 1)
	back, err = ImportSwagger([]byte(noX), "alice")
	if err != nil || back.Routes[0].Action != (Target{Namespace: "alice", Name: "getBooks"}) || back.Routes[0].ResponseType != "http" {
		t.Fatalf("imported from target-url: %+v, %v", back, err)
	}
}

func TestOperationID(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/books/{isbn}", "getBooksIsbn"},
		{"post", "/hello/world", "postHelloWorld"},
		{"GET", "/my-path/x_y", "getMy-pathX_y"},
		{"GET", "/", "get"},
	} {
		if got := OperationID(tc.method, tc.path); got != tc.want {
			t.Errorf("OperationID(%s, %s) = %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestDelete(t *testing.T) {
	build := func() *Table {
		tbl := &Table{}
		for _, v := range []string{"get", "post"} {
			ch, _ := ParseCreate([]byte(wskBody("/club", "/books", v, "a")), "n", "")
			ch.Apply(tbl, 1)
		}
		return tbl
	}
	for _, tc := range []struct {
		req     DeleteRequest
		err     string
		remains int // routes of /club left, -1 gone
	}{
		{DeleteRequest{}, "basepath is required.", 2},
		{DeleteRequest{BasePath: "/club", Operation: "get"}, "When specifying an operation, the path is required.", 2},
		{DeleteRequest{BasePath: "/none"}, "API deletion failure: API '/none' does not exist.", 2},
		{DeleteRequest{BasePath: "/club", RelPath: "/x"}, "API deletion failure: path '/x' does not exist in the API", 2},
		{DeleteRequest{BasePath: "/club", RelPath: "/books", Operation: "PUT"}, "API deletion failure: path '/books' with operation 'put' does not exist in the API", 2},
		{DeleteRequest{BasePath: "/club", RelPath: "/books", Operation: "GET"}, "", 1},
		{DeleteRequest{BasePath: "/club", RelPath: "/books"}, "", -1},
		{DeleteRequest{BasePath: "/club"}, "", -1},
	} {
		tbl := build()
		err := tbl.Delete(tc.req)
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%+v: err %v, want %q", tc.req, err, tc.err)
		}
		got := -1
		if a := tbl.Lookup("/club"); a != nil {
			got = len(a.Routes)
		}
		if got != tc.remains {
			t.Errorf("%+v: %d routes left, want %d", tc.req, got, tc.remains)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewLimiter(func() time.Time { return now })
	lim := RateLimit{Rate: 2, Unit: "minute", Units: 1}
	for i, want := range []bool{true, true, false} {
		if got := l.Allow("k", lim); got != want {
			t.Fatalf("request %d: allowed %v, want %v", i, got, want)
		}
	}
	if !l.Allow("other", lim) {
		t.Fatal("another API shares the bucket")
	}
	now = now.Add(30 * time.Second) // one token back
	if !l.Allow("k", lim) || l.Allow("k", lim) {
		t.Fatal("refill is not rate per period")
	}
}

func FuzzParseCreate(f *testing.F) {
	f.Add([]byte(wskBody("/a", "/b/{id}", "get", "x")), "http")
	f.Add([]byte(`{"apidoc":{"namespace":"_","swagger":"{\"swagger\":\"2.0\",\"info\":{},\"basePath\":\"/a\",\"paths\":{\"/b\":{\"get\":{}}}}"}}`), "json")
	f.Fuzz(func(t *testing.T, body []byte, resp string) {
		ch, err := ParseCreate(body, "ns", resp)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of another type: %v", err)
			}
			return
		}
		tbl := &Table{}
		api := ch.Apply(tbl, 1)
		if _, err := json.Marshal(api.Export("https://h")); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkTableFind is the routing step every gateway request takes: ten
// APIs of ten routes each, a parameterised path.
func BenchmarkTableFind(b *testing.B) {
	tbl := &Table{}
	for i := range 10 {
		for j := range 10 {
			rel := "/r" + string(rune('a'+j)) + "/{id}"
			ch, err := ParseCreate([]byte(wskBody("/api"+string(rune('a'+i)), rel, "get", "x")), "ns", "http")
			if err != nil {
				b.Fatal(err)
			}
			ch.Apply(tbl, 1)
		}
	}
	for b.Loop() {
		if _, out := tbl.Find("GET", "/apij/rj/42"); out != Found {
			b.Fatal("no match")
		}
	}
}

// The owner an endpoint records (x-wisp-managed) is kept on the route and
// survives export and import, so that wisp deploy can tell its routes.
func TestManagedRoundTrip(t *testing.T) {
	body := strings.Replace(wskBody("/hello", "/world", "get", "greet"), `{"apidoc":{`, `{"apidoc":{"x-wisp-managed":{"project":"p"},`, 1)
	ch, err := ParseCreate([]byte(body), "alice", "json")
	if err != nil {
		t.Fatal(err)
	}
	api := ch.Apply(&Table{}, 1)
	if string(api.Routes[0].Managed) != `{"project":"p"}` {
		t.Fatalf("managed = %s", api.Routes[0].Managed)
	}
	b, _ := json.Marshal(api.Export("https://wisp.test"))
	if !strings.Contains(string(b), `"x-wisp-managed":{"project":"p"}`) {
		t.Fatalf("export lacks x-wisp-managed:\n%s", b)
	}
	back, err := ImportSwagger(b, "alice")
	if err != nil || string(back.Routes[0].Managed) != `{"project":"p"}` {
		t.Fatalf("imported %+v, %v", back, err)
	}
}

// TestTableLimits: a namespace's APIs hold at most MaxRoutes routes and
// MaxTableSize bytes: every gateway request scans the routes, and every
// change rewrites the whole table. Over either, the change is refused as
// too large, naming apidoc.
func TestTableLimits(t *testing.T) {
	routes := func(apis, each int, params json.RawMessage) *Table {
		tbl := &Table{}
		for i := range apis {
			api := &API{BasePath: "/b" + strconv.Itoa(i), Name: "n"}
			for j := range each {
				api.Routes = append(api.Routes, Route{Path: "/r" + strconv.Itoa(j), Method: "GET", Action: Target{Namespace: "ns", Name: "a"}, Parameters: params})
			}
			tbl.Put(api)
		}
		return tbl
	}
	big := json.RawMessage(`"` + strings.Repeat("p", MaxTableSize) + `"`)
	for _, tt := range []struct {
		name   string
		tbl    *Table
		reason string // "" when within the limits
	}{
		{"empty", &Table{}, ""},
		{"at the route limit", routes(10, MaxRoutes/10, nil), ""},
		{"one route over", routes(MaxRoutes+1, 1, nil), "routes"},
		{"over in one API", routes(1, MaxRoutes+1, nil), "routes"},
		{"too many bytes", routes(1, 1, big), "bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tbl.CheckLimits()
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe, ok := entity.AsFieldError(err)
			if !ok || fe.Field != "apidoc" || !fe.TooLarge || !strings.Contains(fe.Reason, tt.reason) {
				t.Fatalf("err = %v, want too large naming apidoc and %s", err, tt.reason)
			}
		})
	}
}

// BenchmarkFindManyRoutes is a gateway request's lookup in a namespace
// with MaxRoutes routes.
func BenchmarkFindManyRoutes(b *testing.B) {
	tbl := &Table{}
	api := &API{BasePath: "/b", Name: "n"}
	for j := range MaxRoutes {
		api.Routes = append(api.Routes, Route{Path: "/r" + strconv.Itoa(j) + "/{id}", Method: "GET"})
	}
	tbl.Put(api)
	for b.Loop() {
		if _, out := tbl.Find("GET", "/b/nothing/1"); out != NoAPI {
			b.Fatal(out)
		}
	}
}

// The limiter forgets the buckets that refilled completely (the APIs of
// deleted or idle routes) as new ones come, and keeps a drained one: the
// buckets stay within about twice those in use.
func TestLimiterForgetsFullBuckets(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewLimiter(func() time.Time { return now })
	perMinute := RateLimit{Rate: 1, Unit: "minute"}
	const wave = 3 * minSweep
	for i := range wave {
		l.Allow(fmt.Sprintf("old%d", i), perMinute)
	}
	now = now.Add(2 * time.Minute) // the old ones refilled
	if !l.Allow("hot", perMinute) || l.Allow("hot", perMinute) {
		t.Fatal("hot: want one request a minute")
	}
	now = now.Add(10 * time.Second)
	for i := range wave {
		l.Allow(fmt.Sprintf("new%d", i), perMinute)
	}
	if n := l.Buckets(); n > wave+1 {
		t.Errorf("%d buckets, want at most %d: the refilled ones were not forgotten", n, wave+1)
	}
	if l.Allow("hot", perMinute) {
		t.Error("hot: a drained bucket was forgotten within its minute")
	}
}
