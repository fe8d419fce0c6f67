package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/deploy"
	"github.com/wispio/wisp/internal/progress"
)

// bigManifest declares a package with n actions, each with a trigger and a
// rule; skip leaves out the entities of action number skip.
func bigManifest(n, skip int, changed string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "project:\n  name: big\n  packages:\n    big:\n      actions:\n")
	for i := 1; i <= n; i++ {
		if i != skip {
			fmt.Fprintf(&b, "        a%02d:\n          function: ok.js\n          inputs:\n            v: %s\n", i, changed)
		}
	}
	b.WriteString("      triggers:\n")
	for i := 1; i <= n; i++ {
		if i != skip {
			fmt.Fprintf(&b, "        t%02d: {}\n", i)
		}
	}
	b.WriteString("      rules:\n")
	for i := 1; i <= n; i++ {
		if i != skip {
			fmt.Fprintf(&b, "        r%02d:\n          trigger: t%02d\n          action: a%02d\n", i, i, i)
		}
	}
	return b.String()
}

// TestApplyReportsEachStep deploys a project of many entities to a real
// server with a non-terminal reporter: one counted line per change, in the
// order applied, and nothing for unchanged entities.
func TestApplyReportsEachStep(t *testing.T) {
	e := start(t)
	e.write("ok.js", `function main() { return { v: 1 } }`)
	const n = 8

	first := []string{"create package big"}
	for _, kind := range []string{"action big/a%02d", "trigger t%02d", "rule r%02d"} {
		for i := 1; i <= n; i++ {
			first = append(first, "create "+fmt.Sprintf(kind, i))
		}
	}
	second := []string{"delete rule r03", "delete trigger t03", "delete action big/a03"}
	for i := 1; i <= n; i++ {
		if i != 3 {
			second = append([]string{fmt.Sprintf("update action big/a%02d", i)}, second...)
		}
	}

	tests := []struct {
		name     string
		manifest string
		want     []string // the steps, in any order for the updates
	}{
		{"create all", bigManifest(n, 0, "1"), first},
		{"update actions, delete one set", bigManifest(n, 3, "2"), second},
		{"nothing to do", bigManifest(n, 3, "2"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := e.plan(e.load(tt.manifest, nil), deploy.PlanOptions{File: "manifest.yaml"})
			var out bytes.Buffer
			if _, err := e.d.ApplyReporting(context.Background(), plan, progress.New(&out, false)); err != nil {
				t.Fatalf("apply: %v", err)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if out.Len() == 0 {
				lines = nil
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.want), out.String())
			}
			var steps []string
			for i, line := range lines {
				prefix := fmt.Sprintf("[%d/%d] ", i+1, len(tt.want))
				if !strings.HasPrefix(line, prefix) {
					t.Errorf("line %q does not start with %q", line, prefix)
				}
				steps = append(steps, strings.TrimPrefix(line, prefix))
			}
			if tt.name == "create all" && !slices.Equal(steps, tt.want) {
				t.Errorf("steps\n%s\nwant (dependency order)\n%s", strings.Join(steps, "\n"), strings.Join(tt.want, "\n"))
			}
			got, want := slices.Clone(steps), slices.Clone(tt.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
