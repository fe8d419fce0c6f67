package cli

import "testing"

// feedTrigger is a trigger wired to the alarms feed, as the server answers.
const feedTrigger = `{"name":"t1","annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}`

// feedBody is the body wsk sends a feed action: the user's parameters
// (a JSON object's inside, or "") and the lifecycle parameters.
func feedBody(params, event string) string {
	if params != "" {
		params += ","
	}
	return `{` + params + `"lifecycleEvent":"` + event + `","triggerName":"/_/t1","authKey":"` + testAuth + `"}`
}

func TestTriggerRulePackageCommands(t *testing.T) {
	ok := `{"namespace":"guest","name":"x"}`
	tests := []cliCase{
		{
			name: "trigger create with parameters and a feed",
			args: []string{"trigger", "create", "t1", "-p", "a", "1", "--feed", "/whisk.system/alarms/alarm"},
			script: []exchange{
				{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=false",
					body: `{"name":"t1","annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}`, status: 200, reply: ok},
				{method: "POST", path: "/api/v1/namespaces/whisk.system/actions/alarms/alarm", query: "blocking=true&result=false",
					body: feedBody(`"a":1`, "CREATE"), status: 200, reply: `{"activationId":"f1","response":{"success":true,"result":{"ok":true}}}`},
			},
			stdout: "ok: invoked /whisk.system/alarms/alarm with id f1\nok: created trigger t1\n",
		},
		{
			name: "trigger create whose feed refuses deletes the trigger",
			args: []string{"trigger", "create", "t1", "-p", "cron", "x", "--feed", "/whisk.system/alarms/alarm"},
			script: []exchange{
				{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=false",
					body: `{"name":"t1","annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}`, status: 200, reply: ok},
				{method: "POST", path: "/api/v1/namespaces/whisk.system/actions/alarms/alarm", query: "blocking=true&result=false",
					body: feedBody(`"cron":"x"`, "CREATE"), status: 502,
					reply: `{"activationId":"f2","response":{"status":"application error","success":false,"result":{"error":"cron: pattern \"x\" is not valid"}}}`},
				{method: "DELETE", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok},
			},
			stderr:  "error: Unable to create trigger 't1': Unable to configure feed '/whisk.system/alarms/alarm': the action returned an error: cron: pattern \"x\" is not valid\n",
			wantErr: true,
		},
		{
			name: "trigger update",
			args: []string{"trigger", "update", "t1", "-p", "a", "2"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok},
				{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=true", body: `{"name":"t1","parameters":[{"key":"a","value":2}]}`, status: 200, reply: ok},
			},
			stdout: "ok: updated trigger t1\n",
		},
		{
			name: "trigger update of a feed trigger updates the feed",
			args: []string{"trigger", "update", "t1", "-p", "a", "2"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: feedTrigger},
				{method: "POST", path: "/api/v1/namespaces/whisk.system/actions/alarms/alarm", query: "blocking=true&result=false",
					body: feedBody(`"a":2`, "UPDATE"), status: 200, reply: `{"activationId":"f3","response":{"success":true,"result":{"ok":true}}}`},
			},
			stdout: "ok: invoked /whisk.system/alarms/alarm with id f3\nok: updated trigger t1\n",
		},
		{
			name: "trigger delete of a feed trigger deletes the feed first",
			args: []string{"trigger", "delete", "t1"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: feedTrigger},
				{method: "POST", path: "/api/v1/namespaces/whisk.system/actions/alarms/alarm", query: "blocking=true&result=false",
					body: feedBody("", "DELETE"), status: 200, reply: `{"activationId":"f4","response":{"success":true,"result":{"ok":true}}}`},
				{method: "DELETE", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok},
			},
			stdout: "ok: deleted trigger t1\n",
		},
		{
			name: "trigger get of a feed trigger shows the feed's state",
			args: []string{"trigger", "get", "t1"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: feedTrigger},
				{method: "POST", path: "/api/v1/namespaces/whisk.system/actions/alarms/alarm", query: "blocking=true&result=false",
					body: feedBody("", "READ"), status: 200, reply: `{"activationId":"f5","response":{"success":true,"result":{"status":"active"}}}`},
			},
			stdout: "ok: got trigger t1\n{\n    \"name\": \"t1\",\n    \"annotations\": [\n        {\n            \"key\": \"feed\",\n            \"value\": \"/whisk.system/alarms/alarm\"\n        }\n    ]\n}\nfeed /whisk.system/alarms/alarm:\n{\n    \"status\": \"active\"\n}\n",
		},
		{
			name:   "trigger fire",
			args:   []string{"trigger", "fire", "t1", "-p", "b", "x"},
			script: []exchange{{method: "POST", path: "/api/v1/namespaces/_/triggers/t1", body: `{"b":"x"}`, status: 202, reply: `{"activationId":"abc"}`}},
			stdout: "ok: triggered /_/t1 with id abc\n",
		},
		{
			name:   "trigger fire with no active rule",
			args:   []string{"trigger", "fire", "t1"},
			script: []exchange{{method: "POST", path: "/api/v1/namespaces/_/triggers/t1", body: `{}`, status: 204}},
			stdout: "ok: triggered /_/t1 (no active rules)\n",
		},
		{
			name:    "trigger fire of a missing trigger",
			args:    []string{"trigger", "fire", "nope"},
			script:  []exchange{{method: "POST", path: "/api/v1/namespaces/_/triggers/nope", body: `{}`, status: 404, reply: `{"error":"The requested resource does not exist.","code":"c1"}`}},
			stderr:  "error: The requested resource does not exist. (code c1)\n",
			wantErr: true,
		},
		{
			name: "rule create sends fully qualified names",
			args: []string{"rule", "create", "r1", "t1", "pkg/a1"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=false",
				body: `{"name":"r1","trigger":"/_/t1","action":"/_/pkg/a1"}`, status: 200, reply: ok}},
			stdout: "ok: created rule r1\n",
		},
		{
			name: "rule create with a CEL filter",
			args: []string{"rule", "create", "r1", "t1", "a1", "--filter", "params.temp > 30"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=false",
				body: `{"name":"r1","trigger":"/_/t1","action":"/_/a1","filter":"params.temp \u003e 30"}`, status: 200, reply: ok}},
			stdout: "ok: created rule r1\n",
		},
		{
			name: "rule update with a shorthand filter",
			args: []string{"rule", "update", "r1", "t1", "a1", "--filter", `{"exact": {"type": "com.example.order"}}`},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=true",
				body: `{"name":"r1","trigger":"/_/t1","action":"/_/a1","filter":{"exact":{"type":"com.example.order"}}}`, status: 200, reply: ok}},
			stdout: "ok: updated rule r1\n",
		},
		{
			name: "rule update removes the filter",
			args: []string{"rule", "update", "r1", "t1", "a1", "--filter", ""},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=true",
				body: `{"name":"r1","trigger":"/_/t1","action":"/_/a1","filter":null}`, status: 200, reply: ok}},
			stdout: "ok: updated rule r1\n",
		},
		{
			name:    "rule create with a bad filter shows the server's error",
			args:    []string{"rule", "create", "r1", "t1", "a1", "--filter", "params.temp >"},
			script:  []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=false", body: `{"name":"r1","trigger":"/_/t1","action":"/_/a1","filter":"params.temp \u003e"}`, status: 400, reply: `{"error":"filter: line 1, column 14: Syntax error: mismatched input '\u003cEOF\u003e'","code":"c2"}`}},
			stderr:  "error: filter: line 1, column 14: Syntax error: mismatched input '<EOF>' (code c2)\n",
			wantErr: true,
		},
		{
			name:   "rule disable",
			args:   []string{"rule", "disable", "r1"},
			script: []exchange{{method: "POST", path: "/api/v1/namespaces/_/rules/r1", body: `{"status":"inactive","trigger":null,"action":null}`, status: 200, reply: ok}},
			stdout: "ok: disabled rule r1\n",
		},
		{
			name:   "rule enable",
			args:   []string{"rule", "enable", "r1"},
			script: []exchange{{method: "POST", path: "/api/v1/namespaces/_/rules/r1", body: `{"status":"active","trigger":null,"action":null}`, status: 200, reply: ok}},
			stdout: "ok: enabled rule r1\n",
		},
		{
			name: "rule list shows the status",
			args: []string{"rule", "list"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/_/rules", query: "limit=30&skip=0", status: 200,
				reply: `[{"namespace":"guest","name":"r2","status":"inactive"},{"namespace":"guest","name":"r1","status":"active"}]`}},
			stdout: "rules\n" + pad("/guest/r1", 70) + " active\n" + pad("/guest/r2", 70) + " inactive\n",
		},
		{
			name: "package create shared",
			args: []string{"package", "create", "p1", "--shared", "yes", "-p", "x", "1"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/packages/p1", query: "overwrite=false",
				body: `{"name":"p1","publish":true,"parameters":[{"key":"x","value":1}]}`, status: 200, reply: ok}},
			stdout: "ok: created package p1\n",
		},
		{
			name:    "package create with a bad --shared",
			args:    []string{"package", "create", "p1", "--shared", "maybe"},
			stderr:  "error: --shared takes yes or no, not \"maybe\"\nRun 'wisp package create --help' for usage.\n",
			wantErr: true,
		},
		{
			name: "package bind",
			args: []string{"package", "bind", "/whisk.system/utils", "myutils", "-p", "y", "2"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/packages/myutils", query: "overwrite=false",
				body: `{"name":"myutils","binding":{"namespace":"whisk.system","name":"utils"},"parameters":[{"key":"y","value":2}]}`, status: 200, reply: ok}},
			stdout: "ok: created binding myutils\n",
		},
		{
			name: "package list of another namespace",
			args: []string{"package", "list", "/whisk.system"},
			script: []exchange{{method: "GET", path: "/api/v1/namespaces/whisk.system/packages", query: "limit=30&skip=0", status: 200,
				reply: `[{"namespace":"whisk.system","name":"utils","publish":true}]`}},
			stdout: "packages\n" + pad("/whisk.system/utils", 70) + " shared\n",
		},
		{
			name: "trigger delete",
			args: []string{"trigger", "delete", "t1"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok},
				{method: "DELETE", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok},
			},
			stdout: "ok: deleted trigger t1\n",
		},
		{
			name: "list everything",
			args: []string{"list"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/packages", query: "limit=0&skip=0", status: 200, reply: `[]`},
				{method: "GET", path: "/api/v1/namespaces/_/actions", query: "limit=0&skip=0", status: 200, reply: `[{"namespace":"guest","name":"a","annotations":[{"key":"exec","value":"nodejs:20"}]}]`},
				{method: "GET", path: "/api/v1/namespaces/_/triggers", query: "limit=0&skip=0", status: 200, reply: `[]`},
				{method: "GET", path: "/api/v1/namespaces/_/rules", query: "limit=0&skip=0", status: 200, reply: `[]`},
			},
			stdout: "Entities in namespace: default\npackages\nactions\n" + pad("/guest/a", 70) + " private nodejs:20\ntriggers\nrules\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
