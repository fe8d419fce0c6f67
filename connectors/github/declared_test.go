package github

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/wispio/wisp/feeds"
)

// TestDeclaredParameters: the declaration is what parseParams enforces: a
// required parameter missing, or any one of the wrong type, fails naming
// it; the token is declared secret.
func TestDeclaredParameters(t *testing.T) {
	wrongType := map[string]string{feeds.TypeString: `{}`, feeds.TypeArray: `3`}
	const valid = `{"repository":"octo/hello","accessToken":"t","events":"push"}`
	decode := func() map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	p, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	decl := p.Params(FeedWebhook)
	if _, err := parseParams(decode()); err != nil {
		t.Fatal(err)
	}
	for _, prm := range decl {
		params := decode()
		if _, given := params[prm.Name]; given != prm.Required {
			t.Errorf("%s: required = %v, but the minimal parameters %s do not say so", prm.Name, prm.Required, valid)
		}
		if prm.Required {
			delete(params, prm.Name)
			if _, err := parseParams(params); err == nil || !strings.HasPrefix(err.Error(), prm.Name+": missing; ") {
				t.Errorf("without %s: %v, want %q", prm.Name, err, prm.Name+": missing; ...")
			}
		}
		params[prm.Name] = json.RawMessage(wrongType[prm.Type])
		if _, err := parseParams(params); err == nil || !strings.HasPrefix(err.Error(), prm.Name+": ") {
			t.Errorf("%s = %s: %v, want an error naming it", prm.Name, wrongType[prm.Type], err)
		}
	}
	if !decl.Secret("accessToken") || decl.Secret("username") || p.Params("nope") != nil {
		t.Errorf("declaration = %+v", decl)
	}
}
