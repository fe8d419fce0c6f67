// Package connectors_test keeps README.md's tables of feed parameters in
// step with the connectors' declarations (feeds.Declarer).
package connectors_test

import (
	"flag"
	"log/slog"
	"os"
	"strings"
	"testing"

	_ "github.com/wispio/wisp/connectors/all"
	"github.com/wispio/wisp/feeds"
)

// update rewrites README.md's tables: go test ./connectors/ -run TestREADMEParams -update
var update = flag.Bool("update", false, "rewrite README.md's tables of feed parameters")

const readme = "../README.md"

// declared is a provider that declares its parameters.
type declared interface {
	feeds.Provider
	feeds.Declarer
}

// providers makes every registered connector's provider (connectors/all).
func providers(t *testing.T) []declared {
	t.Helper()
	all, err := feeds.NewProviders(feeds.Env{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var ds []declared
	for _, p := range all {
		d, ok := p.(declared)
		if !ok {
			t.Fatalf("connector %s declares no parameters (feeds.Declarer)", p.Name())
		}
		ds = append(ds, d)
	}
	return ds
}

// TestREADMEParams fails when a table of README.md between
// <!-- params:NAME --> and <!-- /params:NAME --> is not the one
// feeds.Table renders from connector NAME's declaration; -update rewrites
// them.
func TestREADMEParams(t *testing.T) {
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, p := range providers(t) {
		for _, feed := range p.Feeds() {
			if len(p.Params(feed)) == 0 {
				t.Errorf("%s/%s declares no parameters", p.Name(), feed)
			}
		}
		var ok bool
		text, ok = replaceBetween(text, "<!-- params:"+p.Name()+" -->\n", "<!-- /params:"+p.Name()+" -->", feeds.Table(p, p.Feeds()))
		if !ok {
			t.Errorf("README.md has no <!-- params:%s --> ... <!-- /params:%s --> markers", p.Name(), p.Name())
		}
	}
	if text == string(b) {
		return
	}
	if *update {
		if err := os.WriteFile(readme, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's tables of feed parameters are out of date: run go test ./connectors/ -run TestREADMEParams -update")
}

// replaceBetween replaces what s holds between begin and end by body.
func replaceBetween(s, begin, end, body string) (string, bool) {
	before, rest, ok := strings.Cut(s, begin)
	if !ok {
		return s, false
	}
	_, after, ok := strings.Cut(rest, end)
	if !ok {
		return s, false
	}
	return before + begin + body + end + after, true
}
