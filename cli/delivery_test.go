package cli

import "testing"

func TestRuleDeliveryFlags(t *testing.T) {
	ok := `{"namespace":"guest","name":"x"}`
	tests := []cliCase{
		{
			name: "rule create with retries and a dead letter",
			args: []string{"rule", "create", "r1", "t1", "a1", "--retry-attempts", "3", "--retry-backoff", "250ms", "--retry-max-backoff", "5s", "--dead-letter", "dl", "--sink", "https://example.com/in"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=false",
				body: `{"name":"r1","trigger":"/_/t1","action":"/_/a1","retry":{"attempts":3,"backoff":{"initial":250,"max":5000}},"deadLetter":"dl","sink":"https://example.com/in"}`, status: 200, reply: ok}},
			stdout: "ok: created rule r1\n",
		},
		{
			name: "rule update retrying application errors",
			args: []string{"rule", "update", "r1", "t1", "a1", "--retry-attempts", "2", "--retry-on-application-error"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/rules/r1", query: "overwrite=true",
				body: `{"name":"r1","trigger":"/_/t1","action":"/_/a1","retry":{"attempts":2,"backoff":{},"onApplicationError":true}}`, status: 200, reply: ok}},
			stdout: "ok: updated rule r1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestTriggerArchiveFlag: --archive-days N sends the trigger's archive
// policy (0 turns it off); without the flag none is sent, so an update
// keeps the stored one.
func TestTriggerArchiveFlag(t *testing.T) {
	ok := `{"namespace":"guest","name":"t1"}`
	tests := []cliCase{
		{
			name: "trigger create with an archive",
			args: []string{"trigger", "create", "t1", "--archive-days", "7"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=false",
				body: `{"name":"t1","archive":{"days":7}}`, status: 200, reply: ok}},
			stdout: "ok: created trigger t1\n",
		},
		{
			name: "trigger update turning the archive off",
			args: []string{"trigger", "update", "t1", "--archive-days", "0"},
			script: []exchange{{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=true",
				body: `{"name":"t1","archive":{"days":0}}`, status: 200, reply: ok}},
			stdout: "ok: updated trigger t1\n",
		},
		{
			name: "trigger update keeping the archive",
			args: []string{"trigger", "update", "t1", "-p", "a", "1"},
			script: []exchange{
				{method: "GET", path: "/api/v1/namespaces/_/triggers/t1", status: 200, reply: ok},
				{method: "PUT", path: "/api/v1/namespaces/_/triggers/t1", query: "overwrite=true", body: `{"name":"t1","parameters":[{"key":"a","value":1}]}`, status: 200, reply: ok},
			},
			stdout: "ok: updated trigger t1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestTriggerReplay(t *testing.T) {
	tests := []cliCase{
		{
			name: "trigger replay of one rule in a window",
			args: []string{"trigger", "replay", "t1", "--since", "2026-12-01T00:00Z", "--until", "2026-12-02", "--rule", "r1"},
			script: []exchange{{method: "POST", path: "/api/v1/namespaces/_/triggers/t1/replay",
				body: `{"since":"2026-12-01T00:00Z","until":"2026-12-02","rule":"r1"}`, status: 200,
				reply: `{"events":2,"activations":[{"cause":"c1","rule":"guest/r1","activationId":"a1"},{"cause":"c2","rule":"guest/r1","error":"throttled"}]}`}},
			stdout: "error: guest/r1 for c2: throttled\nok: replayed 2 events of /_/t1: 1 activations started, 1 failed\n",
		},
		{
			name: "trigger replay in pages",
			args: []string{"trigger", "replay", "t1", "--since", "2026-12-01", "--limit", "2"},
			script: []exchange{
				{method: "POST", path: "/api/v1/namespaces/_/triggers/t1/replay", body: `{"since":"2026-12-01","limit":2}`, status: 200,
					reply: `{"events":2,"activations":[{"cause":"c1","rule":"guest/r1","activationId":"a1"},{"cause":"c2","rule":"guest/r1","activationId":"a2"}],"next":"1796083200000-c2"}`},
				{method: "POST", path: "/api/v1/namespaces/_/triggers/t1/replay", body: `{"limit":2,"continue":"1796083200000-c2"}`, status: 200,
					reply: `{"events":1,"activations":[{"cause":"c3","rule":"guest/r1","activationId":"a3"}]}`},
			},
			stdout: "ok: replayed 3 events of /_/t1: 3 activations started, 0 failed\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
