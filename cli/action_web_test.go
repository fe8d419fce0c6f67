package cli

import (
	"encoding/json"
	"testing"
)

func TestActionWebFlags(t *testing.T) {
	put := func(query, annotations string) exchange {
		body := `{"namespace":"_","name":"hello","exec":{"kind":"nodejs:default","code":` + quote(helloJS) + `},"annotations":` + annotations + `}`
		if query == "overwrite=true" {
			body = `{"namespace":"_","name":"hello","annotations":` + annotations + `}`
		}
		return exchange{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: query, body: body, status: 200, reply: `{}`}
	}
	tests := []cliCase{
		{
			name:   "web true",
			args:   []string{"action", "create", "hello", "hello.js", "--web", "true"},
			script: []exchange{put("overwrite=false", `[{"key":"web-export","value":true},{"key":"raw-http","value":false},{"key":"final","value":true}]`)},
			stdout: "ok: created action hello\n",
		},
		{
			name:   "web raw with an annotation",
			args:   []string{"action", "create", "hello", "hello.js", "-a", "description", "d", "--web", "raw"},
			script: []exchange{put("overwrite=false", `[{"key":"description","value":"d"},{"key":"web-export","value":true},{"key":"raw-http","value":true},{"key":"final","value":true}]`)},
			stdout: "ok: created action hello\n",
		},
		{
			name:   "web yes with a secret",
			args:   []string{"action", "create", "hello", "hello.js", "--web", "yes", "--web-secure", "s3cr3t"},
			script: []exchange{put("overwrite=false", `[{"key":"web-export","value":true},{"key":"raw-http","value":false},{"key":"final","value":true},{"key":"require-whisk-auth","value":"s3cr3t"}]`)},
			stdout: "ok: created action hello\n",
		},
		{
			name: "update merges into the current annotations",
			args: []string{"action", "update", "hello", "--web", "false", "--web-secure", "false"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/actions/hello", query: "code=false", status: 200,
					reply: `{"name":"hello","annotations":[{"key":"description","value":"d"},{"key":"web-export","value":true},{"key":"require-whisk-auth","value":"s"}]}`},
				put("overwrite=true", `[{"key":"description","value":"d"},{"key":"web-export","value":false},{"key":"raw-http","value":false},{"key":"final","value":false}]`),
			},
			stdout: "ok: updated action hello\n",
		},
		{
			name: "update of a missing action creates it",
			args: []string{"action", "update", "hello", "--web", "true"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/actions/hello", query: "code=false", status: 404, reply: `{"error":"The requested resource does not exist.","code":"c"}`},
				put("overwrite=true", `[{"key":"web-export","value":true},{"key":"raw-http","value":false},{"key":"final","value":true}]`),
			},
			stdout: "ok: updated action hello\n",
		},
		{
			name:    "bad web value",
			args:    []string{"action", "create", "hello", "hello.js", "--web", "maybe"},
			stderr:  "error: Invalid argument 'maybe' for --web flag. Valid input consist of 'yes', 'true', 'raw', 'false', or 'no'.\nRun 'wisp action create --help' for usage.\n",
			wantErr: true,
		},
		{
			name:    "a secret needs a web action",
			args:    []string{"action", "create", "hello", "hello.js", "--web-secure", "s"},
			stderr:  "error: The --web-secure option is only valid when the --web option is enabled.\nRun 'wisp action create --help' for usage.\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, map[string]string{"hello.js": helloJS})
			tt.run(t)
		})
	}
}

func TestWebSecureTrueIsARandomNumber(t *testing.T) {
	api, srv := newFakeAPI(t, exchange{method: "PUT", path: "/api/v1/namespaces/_/actions/hello", query: "overwrite=false", status: 200, reply: `{}`})
	isolate(t, propsFor(srv))
	inDir(t, map[string]string{"hello.js": helloJS})
	if got := runCLI(t.Context(), t, "", "action", "create", "hello", "hello.js", "--web", "true", "--web-secure", "true"); got.err != nil {
		t.Fatal(got.err, got.stderr)
	}
	var body struct {
		Annotations []struct {
			Key   string
			Value json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(api.requests[0].body), &body); err != nil {
		t.Fatal(err)
	}
	for _, a := range body.Annotations {
		if a.Key == "require-whisk-auth" {
			var n int64
			if err := json.Unmarshal(a.Value, &n); err != nil || n <= 0 {
				t.Fatalf("require-whisk-auth = %s", a.Value)
			}
			return
		}
	}
	t.Fatalf("no require-whisk-auth in %s", api.requests[0].body)
}
