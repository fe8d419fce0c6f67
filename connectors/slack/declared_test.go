package slack

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestDeclaredParameters: the events feed declares its three credentials
// secret, and parseFeedParams refuses a value of the wrong type naming
// the parameter.
func TestDeclaredParameters(t *testing.T) {
	p, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	decl := p.Params(FeedEvents)
	if len(decl) != 3 || p.Params("nope") != nil {
		t.Fatalf("declaration = %+v", decl)
	}
	for _, prm := range decl {
		if !prm.Secret || prm.Required {
			t.Errorf("%s: secret %v, required %v; want a secret, not required alone", prm.Name, prm.Secret, prm.Required)
		}
		params := map[string]json.RawMessage{"signingSecret": json.RawMessage(`"s"`), prm.Name: json.RawMessage(`{}`)}
		if _, err := parseFeedParams(params); err == nil || !strings.HasPrefix(err.Error(), prm.Name+": ") {
			t.Errorf("%s = {}: %v, want an error naming it", prm.Name, err)
		}
	}
}
