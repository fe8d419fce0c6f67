package couchdb

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/wispio/wisp/feeds"
)

// TestDeclaredParameters: the declaration is what parseChanges enforces:
// a required parameter missing, or any one of the wrong type, fails
// naming it; the password is declared secret.
func TestDeclaredParameters(t *testing.T) {
	wrongType := map[string]string{feeds.TypeString: `{}`, feeds.TypeURL: `[]`, feeds.TypeInteger: `"x"`, feeds.TypeObject: `[1]`}
	const valid = `{"url":"http://h:5984","dbname":"db"}`
	decode := func() params {
		var m params
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	p := New(Config{}, slog.New(slog.DiscardHandler))
	decl := p.Params(ChangesFeed)
	if _, err := parseChanges(decode()); err != nil {
		t.Fatal(err)
	}
	for _, prm := range decl {
		params := decode()
		if prm.Required {
			delete(params, prm.Name)
			if _, err := parseChanges(params); err == nil || err.Error() != prm.Name+" is required" {
				t.Errorf("without %s: %v, want %q", prm.Name, err, prm.Name+" is required")
			}
		}
		params[prm.Name] = json.RawMessage(wrongType[prm.Type])
		if _, err := parseChanges(params); err == nil || !strings.HasPrefix(err.Error(), prm.Name+" ") {
			t.Errorf("%s = %s: %v, want an error naming it", prm.Name, wrongType[prm.Type], err)
		}
	}
	if !decl.Secret("password") || decl.Secret("dbname") || p.Params("nope") != nil {
		t.Errorf("declaration = %+v", decl)
	}
}
