package deploy

import (
	"strings"
	"testing"
)

func TestParseRuleDeliveryErrors(t *testing.T) {
	for _, tc := range []struct{ name, retry, want string }{
		{"attempts missing", "{backoff: {initial: 1s}}", "packages.p.rules.r.retry.attempts: required: the number of attempts (line 7)"},
		{"attempts too many", "{attempts: 99}", "packages.p.rules.r.retry.attempts: must be a number of attempts from 1 to 20"},
		{"bad duration", "{attempts: 2, backoff: {initial: soon}}", `packages.p.rules.r.retry.backoff.initial: must be a duration such as 500ms or 2s, not "soon"`},
		{"unknown field", "{attempts: 2, tries: 3}", "packages.p.rules.r.retry.tries: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, `
packages:
  p:
    rules:
      r:
        trigger: t
        retry: `+tc.retry+`
        action: a
`, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseTriggerArchiveErrors(t *testing.T) {
	for _, tc := range []struct{ name, archive, want string }{
		{"days missing", "{}", "packages.p.triggers.t.archive.days: required: the number of days the fired events are kept (line 6)"},
		{"days too many", "{days: 365}", "packages.p.triggers.t.archive.days: must be a number of days from 0 (no archive) to 90"},
		{"days not a number", "{days: week}", `packages.p.triggers.t.archive.days: must be a number of days from 0 (no archive) to 90, not "week"`},
		{"unknown field", "{days: 2, size: 3}", "packages.p.triggers.t.archive.size: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, `
packages:
  p:
    triggers:
      t:
        archive: `+tc.archive+`
`, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
