package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOneNameRuleForAllEntities: actions, packages, triggers and rules
// accept and refuse the same names (entity.ValidateName), in the path and
// where a body names another entity.
func TestOneNameRuleForAllEntities(t *testing.T) {
	f := newFixture(t)
	bodies := map[string]string{
		"actions":  nodeAction,
		"packages": `{}`,
		"triggers": `{}`,
		"rules":    `{"trigger":"/_/t","action":"/_/a"}`,
	}
	for _, setup := range []string{"/api/v1/namespaces/_/triggers/t", "/api/v1/namespaces/_/actions/a"} {
		body := `{}`
		if strings.Contains(setup, "actions") {
			body = nodeAction
		}
		if code, _, raw := f.do(t, http.MethodPut, setup, body, &f.auth); code != http.StatusOK {
			t.Fatalf("setup %s = %d %s", setup, code, raw)
		}
	}
	names := []struct {
		name string
		ok   bool
	}{
		{"inner space", true},
		{"a@b.c-d_e", true},
		{"_x", true},
		{strings.Repeat("n", 256), true},
		{" lead", false},
		{"trail ", false},
		{"-dash", false},
		{"..x", false},
		{"nul\x00byte", false},
		{"tab\tname", false},
		{"nbsp\u00a0name", false},
		{strings.Repeat("n", 257), false},
	}
	for collection, body := range bodies {
		for _, n := range names {
			t.Run(collection+"/"+n.name[:min(len(n.name), 12)], func(t *testing.T) {
				code, _, raw := f.do(t, http.MethodPut, "/api/v1/namespaces/_/"+collection+"/"+url.PathEscape(n.name), body, &f.auth)
				if n.ok && code != http.StatusOK || !n.ok && (code != http.StatusBadRequest || !strings.Contains(raw, `"name: `)) {
					t.Fatalf("PUT %s %q = %d %s, want ok=%v", collection, n.name, code, raw, n.ok)
				}
			})
		}
	}
	for _, n := range names[4:] {
		for field, body := range map[string]string{
			"trigger": `{"trigger":` + quote(n.name) + `,"action":"/_/a"}`,
			"action":  `{"trigger":"/_/t","action":` + quote(n.name) + `}`,
		} {
			code, _, raw := f.do(t, http.MethodPut, "/api/v1/namespaces/_/rules/r2", body, &f.auth)
			if code != http.StatusBadRequest || !strings.HasPrefix(raw, `{"error":"`+field+`: `) {
				t.Errorf("rule with %s %q = %d %s, want 400 naming %s", field, n.name, code, raw, field)
			}
		}
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	return b.String() + `"`
}
