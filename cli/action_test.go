package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wispio/wisp/client"
)

const helloJS = "function main(params) { return {payload: 'Hello, ' + params.name}; }\n"

// cliCase is one command line, the exchanges it must have with the server and
// what it must print.
type cliCase struct {
	name    string
	args    []string
	stdin   string
	script  []exchange
	stdout  string
	stderr  string
	wantErr bool
}

func (tt cliCase) run(t *testing.T) {
	t.Helper()
	api, srv := newFakeAPI(t, tt.script...)
	isolate(t, propsFor(srv))
	got := runCLI(context.Background(), t, tt.stdin, tt.args...)
	api.check(t)
	if got.stdout != tt.stdout {
		t.Errorf("stdout =\n%s\nwant\n%s", got.stdout, tt.stdout)
	}
	if got.stderr != tt.stderr {
		t.Errorf("stderr =\n%s\nwant\n%s", got.stderr, tt.stderr)
	}
	if (got.err != nil) != tt.wantErr {
		t.Errorf("err = %v, want an error: %v", got.err, tt.wantErr)
	}
}

// inDir runs the test in a fresh working directory holding files.
func inDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestActionCreateAndUpdate(t *testing.T) {
	zip := "PK\x03\x04 not really a zip \x00\xff"
	zipB64 := base64.StdEncoding.EncodeToString([]byte(zip))
	elf := "\x7fELF an executable \x00\xff"
	tests := []cliCase{
		{
			name: "create infers the kind from .js",
			args: []string{"action", "create", "hello", "hello.js"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=false",
				body:   `{"namespace":"_","name":"hello","exec":{"kind":"nodejs:default","code":` + quote(helloJS) + `}}`,
				status: 200, reply: `{"namespace":"guest","name":"hello","version":"0.0.1"}`}},
			stdout: "ok: created action hello\n",
		},
		{
			name: "create with every flag",
			args: []string{"action", "create", "hello", "hello.js", "--kind", "nodejs:20", "--main", "greet",
				"-p", "name", "World", "-p", "n", "5", "--param", "obj", `{"a": [1, true]}`, "-p", "name", "Wisp",
				"-a", "description", "says hello", "--timeout", "3000", "-m", "128", "--logsize", "5", "-c", "2"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=false",
				body: `{"namespace":"_","name":"hello",
					"exec":{"kind":"nodejs:20","code":` + quote(helloJS) + `,"main":"greet"},
					"parameters":[{"key":"name","value":"Wisp"},{"key":"n","value":5},{"key":"obj","value":{"a":[1,true]}}],
					"annotations":[{"key":"description","value":"says hello"}],
					"limits":{"timeout":3000,"memory":128,"logs":5,"concurrency":2}}`,
				status: 200, reply: `{}`}},
			stdout: "ok: created action hello\n",
		},
		{
			name: "a zip goes base64 with binary set",
			args: []string{"action", "create", "app", "app.zip", "--kind", "nodejs:20"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/app", query: "overwrite=false",
				body:   `{"namespace":"_","name":"app","exec":{"kind":"nodejs:20","code":"` + zipB64 + `","binary":true}}`,
				status: 200, reply: `{}`}},
			stdout: "ok: created action app\n",
		},
		{
			name: "native code goes base64 with binary set",
			args: []string{"action", "create", "tool", "tool", "--kind", "native"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/tool", query: "overwrite=false",
				body:   `{"namespace":"_","name":"tool","exec":{"kind":"native","code":"` + base64.StdEncoding.EncodeToString([]byte(elf)) + `","binary":true}}`,
				status: 200, reply: `{}`}},
			stdout: "ok: created action tool\n",
		},
		{
			name:    "a zip needs a kind",
			args:    []string{"action", "create", "app", "app.zip"},
			stderr:  "error: creating an action from a .zip artifact requires specifying the action kind explicitly\nRun 'wisp action create --help' for usage.\n",
			wantErr: true,
		},
		{
			name:    "create needs an artifact",
			args:    []string{"action", "create", "hello"},
			stderr:  "error: An action name and code artifact are required.\nRun 'wisp action create --help' for usage.\n",
			wantErr: true,
		},
		{
			name:    "a pair flag needs two arguments",
			args:    []string{"action", "create", "hello", "hello.js", "-p", "name"},
			stderr:  "error: Arguments for '-p' must be a key/value pair\nRun 'wisp action create --help' for usage.\n",
			wantErr: true,
		},
		{
			name:    "unknown extension",
			args:    []string{"action", "create", "hello", "hello.txt"},
			stderr:  "error: '.txt' is not a supported action runtime\nRun 'wisp action create --help' for usage.\n",
			wantErr: true,
		},
		{
			name: "update without code sends only what changed",
			args: []string{"action", "update", "hello", "-p", "name", "World", "-P", "params.json"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=true",
				body:   `{"namespace":"_","name":"hello","parameters":[{"key":"greeting","value":"hi"},{"key":"name","value":"World"}]}`,
				status: 200, reply: `{}`}},
			stdout: "ok: updated action hello\n",
		},
		{
			name:  "parameters from stdin",
			args:  []string{"action", "update", "hello", "-P", "-"},
			stdin: `{"b": 2, "a": "x"}`,
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=true",
				body:   `{"namespace":"_","name":"hello","parameters":[{"key":"a","value":"x"},{"key":"b","value":2}]}`,
				status: 200, reply: `{}`}},
			stdout: "ok: updated action hello\n",
		},
		{
			name: "update a packaged python action in another namespace",
			args: []string{"action", "update", "/guest/utils/say hi", "hello.py"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/guest/actions/utils/say%20hi", query: "overwrite=true",
				body:   `{"namespace":"guest","name":"utils/say hi","exec":{"kind":"python:default","code":"def main(a):\n  return a\n"}}`,
				status: 200, reply: `{}`}},
			stdout: "ok: updated action utils/say hi\n",
		},
		{
			name: "sequence components are qualified",
			args: []string{"action", "create", "seq", "--sequence", "/whisk.system/utils/echo,hello"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/seq", query: "overwrite=false",
				body:   `{"namespace":"_","name":"seq","exec":{"kind":"sequence","components":["/whisk.system/utils/echo","/_/hello"]}}`,
				status: 200, reply: `{}`}},
			stdout: "ok: created action seq\n",
		},
		{
			name: "docker image",
			args: []string{"action", "create", "bb", "--docker", "me/echo:1"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/bb", query: "overwrite=false",
				body:   `{"namespace":"_","name":"bb","exec":{"kind":"blackbox","image":"me/echo:1"}}`,
				status: 200, reply: `{}`}},
			stdout: "ok: created action bb\n",
		},
		{
			name: "conflict prints the server's message",
			args: []string{"action", "create", "hello", "hello.js"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=false",
				body:   `{"namespace":"_","name":"hello","exec":{"kind":"nodejs:default","code":` + quote(helloJS) + `}}`,
				status: 409, reply: `{"error":"resource already exists","code":"tid-42"}`}},
			stderr:  "error: resource already exists (code tid-42)\n",
			wantErr: true,
		},
		{
			name: "json prints the stored action",
			args: []string{"--json", "action", "update", "hello"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=true",
				body: `{"namespace":"_","name":"hello"}`, status: 200, reply: `{"name":"hello","version":"0.0.2"}`}},
			stdout: `{"name":"hello","version":"0.0.2"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, map[string]string{
				"hello.js": helloJS, "hello.py": "def main(a):\n  return a\n", "hello.txt": "x",
				"app.zip": zip, "params.json": `{"greeting": "hi", "name": "ignored"}`, "tool": elf,
			})
			tt.run(t)
		})
	}
}

func TestActionGetListDelete(t *testing.T) {
	const action = `{"namespace":"guest","name":"hello","version":"0.0.1","publish":false,
		"exec":{"kind":"nodejs:20","binary":false},
		"parameters":[{"key":"name","value":"World"}],
		"annotations":[{"key":"description","value":""},{"key":"parameters","value":[{"name":"greeting"}]}],
		"limits":{"timeout":60000,"memory":256,"logs":10,"concurrency":1}}`
	get := exchange{method: "GET", path: "/api/v1/namespaces/_/actions/hello", query: "code=false", status: 200, reply: action}
	tests := []cliCase{
		{
			name:   "get prints the action",
			args:   []string{"action", "get", "hello"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/actions/hello", query: "code=false", status: 200, reply: `{"name":"hello","exec":{"kind":"nodejs:20"}}`}},
			stdout: "ok: got action hello\n{\n    \"name\": \"hello\",\n    \"exec\": {\n        \"kind\": \"nodejs:20\"\n    }\n}\n",
		},
		{
			name:   "summary",
			args:   []string{"action", "get", "hello", "--summary"},
			script: []exchange{get},
			stdout: "action /guest/hello: Returns a result based on parameters greeting and name\n   (parameters: greeting, *name)\n",
		},
		{
			name:   "url",
			args:   []string{"action", "get", "hello", "--url"},
			script: []exchange{get},
			stdout: "ok: got action hello\nAPIURL/api/v1/namespaces/guest/actions/hello\n",
		},
		{
			name: "web url",
			args: []string{"action", "get", "pkg/hello", "-r"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/actions/pkg/hello", query: "code=false", status: 200,
				reply: `{"namespace":"guest/pkg","name":"hello","annotations":[{"key":"web-export","value":true}]}`}},
			stdout: "ok: got action pkg/hello\nAPIURL/api/v1/web/guest/pkg/hello\n",
		},
		{
			name:    "missing",
			args:    []string{"action", "get", "nope"},
			script:  []exchange{{method: "GET", path: "/api/v1/namespaces/_/actions/nope", query: "code=false", status: 404, reply: `{"error":"The requested resource does not exist.","code":"x7"}`}},
			stderr:  "error: The requested resource does not exist. (code x7)\n",
			wantErr: true,
		},
		{
			name: "list",
			args: []string{"action", "list"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/actions", query: "limit=30&skip=0", status: 200,
				reply: `[{"namespace":"guest","name":"zeta","annotations":[{"key":"exec","value":"python:3"}]},
					{"namespace":"guest","name":"alpha","publish":true,"exec":{"kind":"nodejs:20"}}]`}},
			stdout: "actions\n" +
				"/guest/zeta" + strings.Repeat(" ", 70-len("/guest/zeta")) + " private python:3\n" +
				"/guest/alpha" + strings.Repeat(" ", 70-len("/guest/alpha")) + " shared nodejs:20\n",
		},
		{
			name: "list a package sorted by name",
			args: []string{"action", "list", "utils", "--limit", "5", "-s", "2", "-n"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/actions/utils/", query: "limit=5&skip=2", status: 200,
				reply: `[{"namespace":"guest/utils","name":"b"},{"namespace":"guest/utils","name":"a"}]`}},
			stdout: "actions\n" +
				"/guest/utils/a" + strings.Repeat(" ", 70-len("/guest/utils/a")) + " private \n" +
				"/guest/utils/b" + strings.Repeat(" ", 70-len("/guest/utils/b")) + " private \n",
		},
		{
			name:   "list json is the raw body",
			args:   []string{"action", "list", "/guest", "--json"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/guest/actions", query: "limit=30&skip=0", status: 200, reply: `[ {"name":"a"} ]`}},
			stdout: `[ {"name":"a"} ]` + "\n",
		},
		{
			name:   "delete",
			args:   []string{"action", "delete", "/guest/hello"},
			script: []exchange{{method: "DELETE", path: "/api/v1/namespaces/guest/actions/hello", status: 200, reply: `{}`}},
			stdout: "ok: deleted action hello\n",
		},
		{
			name:    "delete needs a name",
			args:    []string{"action", "delete"},
			stderr:  "error: Invalid argument(s). An action name is required.\nRun 'wisp action delete --help' for usage.\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, tt.script...)
			isolate(t, propsFor(srv))
			got := runCLI(context.Background(), t, "", tt.args...)
			api.check(t)
			want := strings.ReplaceAll(tt.stdout, "APIURL", srv.URL)
			if got.stdout != want || got.stderr != tt.stderr || (got.err != nil) != tt.wantErr {
				t.Errorf("got stdout\n%s\nstderr\n%s\nerr %v\nwant stdout\n%s\nstderr\n%s\nerr %v",
					got.stdout, got.stderr, got.err, want, tt.stderr, tt.wantErr)
			}
		})
	}
}

func TestActionGetSave(t *testing.T) {
	zip := []byte("PK\x03\x04zip bytes")
	tests := []struct {
		name, reply, file, content string
		args                       []string
	}{
		{"code", `{"name":"hello","exec":{"kind":"nodejs:20","code":"let x = 1"}}`, "hello.js", "let x = 1", []string{"--save"}},
		{"binary", `{"name":"hello","exec":{"kind":"python:3","binary":true,"code":"` + base64.StdEncoding.EncodeToString(zip) + `"}}`, "hello.zip", string(zip), []string{"--save"}},
		{"native executable", `{"name":"hello","exec":{"kind":"native","binary":true,"code":"` + base64.StdEncoding.EncodeToString([]byte("\x7fELF")) + `"}}`, "hello", "\x7fELF", []string{"--save"}},
		{"save as", `{"name":"hello","exec":{"kind":"nodejs:20","code":"let y"}}`, "out.txt", "let y", []string{"--save-as", "out.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := inDir(t, nil)
			get := exchange{method: "GET", path: "/api/v1/namespaces/_/actions/hello", query: "code=true", status: 200, reply: tt.reply}
			api, srv := newFakeAPI(t, get, get)
			isolate(t, propsFor(srv))
			got := runCLI(context.Background(), t, "", append([]string{"action", "get", "hello"}, tt.args...)...)
			if got.err != nil {
				t.Fatalf("save: %v\n%s", got.err, got.stderr)
			}
			path := filepath.Join(dir, tt.file)
			if want := "ok: saved action code to " + path + "\n"; got.stdout != want {
				t.Errorf("stdout = %q, want %q", got.stdout, want)
			}
			if data, err := os.ReadFile(path); err != nil || string(data) != tt.content {
				t.Errorf("saved %q, %v, want %q", data, err, tt.content)
			}
			// A second save refuses to overwrite.
			again := runCLI(context.Background(), t, "", append([]string{"action", "get", "hello"}, tt.args...)...)
			if again.err == nil || !strings.Contains(again.stderr, "already exists") {
				t.Errorf("second save: err %v, stderr %q", again.err, again.stderr)
			}
			api.check(t)
		})
	}
}

func TestActionInvoke(t *testing.T) {
	const activation = `{"activationId":"a1","namespace":"guest","name":"hello","response":{"status":"success","statusCode":0,"success":true,"result":{"payload":"hi"}}}`
	const activationOut = "{\n    \"activationId\": \"a1\",\n    \"namespace\": \"guest\",\n    \"name\": \"hello\",\n    \"response\": {\n        \"status\": \"success\",\n        \"statusCode\": 0,\n        \"success\": true,\n        \"result\": {\n            \"payload\": \"hi\"\n        }\n    }\n}\n"
	invoke := func(query, body string, status int, reply string) exchange {
		return exchange{method: "POST", path: "/api/v1/namespaces/_/actions/hello", query: query, body: body, status: status, reply: reply}
	}
	tests := []cliCase{
		{
			name:   "non-blocking",
			args:   []string{"action", "invoke", "hello"},
			script: []exchange{invoke("blocking=false&result=false", `{}`, 202, `{"activationId":"a0"}`)},
			stdout: "ok: invoked /_/hello with id a0\n",
		},
		{
			name:   "result only",
			args:   []string{"action", "invoke", "hello", "-p", "name", "Wisp", "-p", "n", "1", "-r"},
			script: []exchange{invoke("blocking=true&result=true", `{"name":"Wisp","n":1}`, 200, `{"payload":"Hello, Wisp"}`)},
			stdout: "{\n    \"payload\": \"Hello, Wisp\"\n}\n",
		},
		{
			name:   "blocking prints the activation",
			args:   []string{"action", "invoke", "-b", "hello"},
			script: []exchange{invoke("blocking=true&result=false", `{}`, 200, activation)},
			stdout: "ok: invoked /_/hello with id a1\n" + activationOut,
		},
		{
			name:    "blocking past the wait",
			args:    []string{"action", "invoke", "hello", "--blocking"},
			script:  []exchange{invoke("blocking=true&result=false", `{}`, 202, `{"activationId":"a2"}`)},
			stderr:  "ok: invoked /_/hello, but the request has not yet finished, with id a2\n",
			wantErr: true,
		},
		{
			name:    "application error",
			args:    []string{"action", "invoke", "hello", "-r"},
			script:  []exchange{invoke("blocking=true&result=true", `{}`, 502, `{"error":"boom"}`)},
			stderr:  "{\n    \"error\": \"boom\"\n}\n",
			wantErr: true,
		},
		{
			name: "failed activation goes to stderr",
			args: []string{"action", "invoke", "hello", "-b"},
			script: []exchange{invoke("blocking=true&result=false", `{}`, 502,
				`{"activationId":"a5","response":{"status":"application error","statusCode":1,"success":false,"result":{"error":"boom"}}}`)},
			stderr: "ok: invoked /_/hello with id a5\n{\n    \"activationId\": \"a5\",\n    \"response\": {\n        \"status\": \"application error\",\n" +
				"        \"statusCode\": 1,\n        \"success\": false,\n        \"result\": {\n            \"error\": \"boom\"\n        }\n    }\n}\n",
			wantErr: true,
		},
		{
			name:    "throttled",
			args:    []string{"action", "invoke", "hello"},
			script:  []exchange{invoke("blocking=false&result=false", `{}`, 429, `{"error":"Too many requests in the last minute (count: 61, allowed: 60).","code":"t9"}`)},
			stderr:  "error: Too many requests in the last minute (count: 61, allowed: 60). (code t9)\n",
			wantErr: true,
		},
		{
			name:   "json",
			args:   []string{"--json", "action", "invoke", "hello", "-P", "p.json"},
			script: []exchange{invoke("blocking=false&result=false", `{"x":[1]}`, 202, `{"activationId":"a3"}`)},
			stdout: `{"activationId":"a3"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, map[string]string{"p.json": `{"x":[1]}`})
			tt.run(t)
		})
	}
}

func TestErrorsAreTyped(t *testing.T) {
	api, srv := newFakeAPI(t, exchange{method: "DELETE", path: "/api/v1/namespaces/_/actions/x", status: 403, reply: `{"error":"not allowed","code":"c"}`})
	isolate(t, propsFor(srv))
	got := runCLI(context.Background(), t, "", "action", "delete", "x")
	api.check(t)
	var apiErr *client.Error
	if !errors.As(got.err, &apiErr) || apiErr.StatusCode != 403 || !IsReported(got.err) {
		t.Fatalf("err = %v, want a reported *client.Error with status 403", got.err)
	}
}

// quote renders s as a JSON string.
func quote(s string) string {
	b, _ := jsonMarshal(s)
	return string(b)
}
