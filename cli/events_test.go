package cli

import "testing"

func TestTriggerRulePackageCommands(t *testing.T) {
	ok := `{"namespace":"guest","name":"x"}`
	tests := []cliCase{
		{
			name: "trigger create with parameters and a feed",
			args: []string{"trigger", "create", "t1", "-p", "a", "1", "--feed", "/whisk.system/alarms/alarm"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=false",
				body: `{"name":"t1","parameters":[{"key":"a","value":1}],"annotations":[{"key":"feed","value":"/whisk.system/alarms/alarm"}]}`, status: 200, reply: ok}},
			stdout: "ok: created trigger t1\n",
		},
		{
			name:   "trigger update",
			args:   []string{"trigger", "update", "t1", "-p", "a", "2"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=true", body: `{"name":"t1","parameters":[{"key":"a","value":2}]}`, status: 200, reply: ok}},
			stdout: "ok: updated trigger t1\n",
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
			name:   "trigger delete",
			args:   []string{"trigger", "delete", "t1"},
			script: []exchange{{method: "DELETE", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok}},
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
