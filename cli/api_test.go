package cli

import (
	"context"
	"strings"
	"testing"
)

// TestAPICommands checks that `wisp api` makes wsk's calls to the apimgmt
// actions and prints what wsk prints.
func TestAPICommands(t *testing.T) {
	const apidoc = `{"swagger":"2.0","info":{"title":"/club","version":"1.0.0"},"basePath":"/club","paths":{"/books/{isbn}":{"get":{"operationId":"getBooksIsbn","x-openwhisk":{"namespace":"guest","package":"lib","action":"getBooks","url":"u"}}}}}`
	ret := `{"namespace":"guest","gwApiUrl":"http://h/api/u/club","gwApiActivated":true,"tenantId":"u","apidoc":` + apidoc + `}`
	api, srv := newFakeAPI(t)
	api.script = []exchange{
		{method: "POST", path: "/api/v1/web/whisk.system/apimgmt/createApi.http", query: "responsetype=http", status: 200, reply: ret,
			body: `{"apidoc":{"namespace":"_","gatewayBasePath":"/club","gatewayPath":"/books/{isbn}","gatewayMethod":"GET","id":"API:_:/club",
				"action":{"name":"lib/getBooks","namespace":"_","backendMethod":"GET","authkey":"` + testAuth + `","backendUrl":"` + srv.URL + `/api/v1/web/_/lib/getBooks.http"},
				"pathParameters":[{"name":"isbn","in":"path","description":"Default description for 'isbn'","required":true,"type":"string"}]}}`},
		{method: "GET", path: "/api/v1/web/whisk.system/apimgmt/getApi.http", query: "basepath=%2Fclub&limit=30&skip=0", status: 200,
			reply: `{"apis":[{"id":"API:guest:/club","key":"guest","value":` + ret + `}]}`},
		{method: "DELETE", path: "/api/v1/web/whisk.system/apimgmt/deleteApi.http", query: "basepath=%2Fclub&operation=GET&relpath=%2Fbooks%2F%7Bisbn%7D", status: 200, reply: `{}`},
		{method: "POST", path: "/api/v1/web/whisk.system/apimgmt/createApi.http", query: "responsetype=json", status: 502,
			reply: `{"error":"'club' must begin with '/'.","code":"c"}`,
			body:  `{"apidoc":{"namespace":"_","gatewayBasePath":"club","gatewayPath":"/b","gatewayMethod":"GET","id":"API:_:club","action":{"name":"a","namespace":"_","backendMethod":"GET","authkey":"` + testAuth + `","backendUrl":"` + srv.URL + `/api/v1/web/_/default/a.http"}}}`},
	}
	isolate(t, propsFor(srv))
	ctx := context.Background()
	for _, step := range []struct {
		args []string
		want string
		err  bool
	}{
		{[]string{"api", "create", "/club", "/books/{isbn}", "get", "lib/getBooks", "--response-type", "http"}, "ok: created API /club/books/{isbn} GET for action /guest/lib/getBooks\nhttp://h/api/u/club/books/{isbn}\n", false},
		{[]string{"api", "list", "/club"}, "/guest/lib/getBooks                get                /club  http://h/api/u/club/books/{isbn}\n", false},
		{[]string{"api", "delete", "/club", "/books/{isbn}", "get"}, "ok: deleted /books/{isbn} GET from /club\n", false},
		{[]string{"api", "create", "club", "/b", "get", "a"}, "", true},
	} {
		got := runCLI(ctx, t, "", step.args...)
		if (got.err != nil) != step.err || !strings.Contains(got.stdout, step.want) {
			t.Errorf("wisp %s = %q, %v; want %q", strings.Join(step.args, " "), got.stdout, got.err, step.want)
		}
		if step.err && !strings.Contains(got.stderr+got.err.Error(), "'club' must begin with '/'.") {
			t.Errorf("wisp %s: error %q %v lacks the server's message", strings.Join(step.args, " "), got.stderr, got.err)
		}
	}
	api.check(t)
}
