package alarms

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wispio/wisp/feeds"
)

// wrongType holds, by declared type, a value no parameter of that type
// accepts.
var wrongType = map[string]string{
	feeds.TypeString: `{}`, feeds.TypeInteger: `"x"`, feeds.TypeBoolean: `"maybe"`,
	feeds.TypeObject: `[1]`, feeds.TypeDate: `true`,
}

// TestDeclaredParameters: the declaration is what parse enforces. Every
// feed declares its parameters; a required one missing, or any one of the
// wrong type, fails with an error naming it; and the minimal valid
// parameters are the required ones.
func TestDeclaredParameters(t *testing.T) {
	valid := map[string]string{FeedAlarm: `{"cron":"* * * * *"}`, FeedOnce: `{"date":"2030-01-02T00:00:00Z"}`, FeedInterval: `{"minutes":5}`}
	p := New(Config{}, nil)
	for _, feed := range p.Feeds() {
		decl := p.Params(feed)
		if len(decl) == 0 {
			t.Fatalf("feed %s declares no parameters", feed)
		}
		base := decodeParams(t, valid[feed])
		if _, err := parse(feed, base); err != nil {
			t.Fatalf("%s: parse(%s) = %v", feed, valid[feed], err)
		}
		for _, prm := range decl {
			if _, given := base[prm.Name]; given != prm.Required {
				t.Errorf("%s: %s: required = %v, but the minimal parameters %s do not say so", feed, prm.Name, prm.Required, valid[feed])
			}
			params := decodeParams(t, valid[feed])
			if prm.Required {
				delete(params, prm.Name)
				if _, err := parse(feed, params); err == nil || !strings.HasPrefix(err.Error(), prm.Name+": missing") {
					t.Errorf("%s without %s: parse = %v, want %q", feed, prm.Name, err, prm.Name+": missing")
				}
			}
			params[prm.Name] = json.RawMessage(wrongType[prm.Type])
			if _, err := parse(feed, params); err == nil || !strings.HasPrefix(err.Error(), prm.Name+": ") {
				t.Errorf("%s with %s %s: parse = %v, want an error naming it", feed, prm.Name, wrongType[prm.Type], err)
			}
		}
	}
	if p.Params("nope") != nil {
		t.Error("an unknown feed has a declaration")
	}
}

func decodeParams(t *testing.T, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
