package deploy_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/wispio/wisp/deploy"
)

const routesManifest = `
project:
  name: greet
  packages:
    default:
      actions:
        hello:
          function: hello.js
          web-export: true
  apis:
    hello-world:
      hello:
        world:
          hello:
            method: GET
            response: json
%s`

const booksRoute = `
        books/{id}:
          hello:
            method: get
            response: http
`

// get requests the gateway URL of a route and returns status and body.
func (e *env) get(uuid, path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get("http://" + e.srv.Addr() + "/api/" + uuid + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// routes lists the namespace's API routes as "METHOD basepath relpath".
func (e *env) routes() []string {
	e.t.Helper()
	apis, _, err := e.c.GetAPIs(context.Background(), "", 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range apis {
		rs, err := a.Routes()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range rs {
			out = append(out, strings.ToUpper(r.Verb)+" "+r.BasePath+" "+r.Path)
		}
	}
	return out
}

func TestAPIRoutes(t *testing.T) {
	e := start(t)
	e.write("hello.js", `function main(p) {
  if (p.__ow_path) return { body: 'book ' + p.__ow_path };
  return { greeting: 'hello ' + (p.name || 'world') };
}`)
	uuid, _, _ := strings.Cut(e.auth, ":")
	ctx := context.Background()
	plan := e.deploy(e.load(strings.Replace(routesManifest, "%s", booksRoute, 1), nil))
	if got, want := diff(plan), `project greet in namespace dep
+ action hello
+ route GET /hello/world
+ route GET /hello/books/{id}
plan: 3 to create, 0 to update, 0 to delete, 0 unchanged
`; got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if code, body := e.get(uuid, "/hello/world?name=wisp"); code != http.StatusOK || !strings.Contains(body, `"greeting": "hello wisp"`) && !strings.Contains(body, `"greeting":"hello wisp"`) {
		t.Errorf("GET /hello/world: %d %s", code, body)
	}
	if code, body := e.get(uuid, "/hello/books/42"); code != http.StatusOK || body != "book /hello/books/42" {
		t.Errorf("GET /hello/books/42: %d %q", code, body)
	}

	// A route made by hand in the same API is not the project's.
	manual := map[string]any{
		"namespace": "_", "gatewayBasePath": "/hello", "gatewayPath": "/manual", "gatewayMethod": "get",
		"action": map[string]any{"name": "hello", "namespace": "_", "backendMethod": "get",
			"backendUrl": "/api/v1/web/dep/default/hello.json", "authkey": e.auth},
	}
	if _, _, err := e.c.CreateAPI(ctx, manual, "json"); err != nil {
		t.Fatal(err)
	}

	// Dropping a route from the manifest removes it, and only it.
	plan = e.deploy(e.load(strings.Replace(routesManifest, "%s", "", 1), nil))
	if got, want := diff(plan), `project greet in namespace dep
  action hello
  route GET /hello/world
- route GET /hello/books/{id}
plan: 0 to create, 0 to update, 1 to delete, 2 unchanged
`; got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if code, _ := e.get(uuid, "/hello/books/42"); code != http.StatusNotFound {
		t.Errorf("GET /hello/books/42 after its removal: %d", code)
	}
	if got := e.routes(); len(got) != 2 {
		t.Errorf("routes %v, want GET /hello /world and GET /hello /manual", got)
	}

	// A changed route is updated in place.
	plan = e.deploy(e.load(strings.Replace(strings.Replace(routesManifest, "%s", "", 1), "response: json", "response: text", 1), nil))
	if got, want := diff(plan), `project greet in namespace dep
  action hello
~ route GET /hello/world (response)
plan: 0 to create, 1 to update, 0 to delete, 1 unchanged
`; got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}

	// Undeploy takes the project's routes and leaves the hand-made one.
	undo, err := e.d.PlanUndeploy(ctx, "greet")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := diff(undo), `project greet in namespace dep
- route GET /hello/world
- action hello
plan: 0 to create, 0 to update, 2 to delete, 0 unchanged
`; got != want {
		t.Errorf("undeploy plan:\n%s\nwant:\n%s", got, want)
	}
	if _, err := e.d.Undeploy(ctx, undo); err != nil {
		t.Fatal(err)
	}
	if got := e.routes(); len(got) != 1 || got[0] != "GET /hello /manual" {
		t.Errorf("after undeploy routes %v, want the hand-made one", got)
	}
}

// A manifest route over a hand-made one needs --adopt, as entities do.
func TestAPIRouteOwnership(t *testing.T) {
	e := start(t)
	e.write("hello.js", `function main() { return { greeting: 'hello' } }`)
	ctx := context.Background()
	p := e.load(strings.Replace(routesManifest, "%s", "", 1), nil)
	e.deploy(p)
	e.undeploy("greet")
	// re-create the action and a hand-made route on the manifest's URL
	e.deploy(e.load(`
project:
  name: other
  packages:
    default:
      actions:
        hello:
          function: hello.js
          web-export: true
`, nil))
	manual := map[string]any{
		"namespace": "_", "gatewayBasePath": "/hello", "gatewayPath": "/world", "gatewayMethod": "GET",
		"action": map[string]any{"name": "hello", "namespace": "_", "backendMethod": "GET",
			"backendUrl": "/api/v1/web/dep/default/hello.json", "authkey": e.auth},
	}
	if _, _, err := e.c.CreateAPI(ctx, manual, "json"); err != nil {
		t.Fatal(err)
	}
	_, err := e.d.Plan(ctx, p, deploy.PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), `route "GET /hello/world" already exists and is not managed by a project; use --adopt`) {
		t.Fatalf("plan over a hand-made route: %v", err)
	}
}
