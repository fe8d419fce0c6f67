package feeds

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The preferred node does not depend on the order the live nodes are
// listed in, a node leaving moves only its own registrations, and
// registrations spread over the nodes evenly.
func TestPreferredNode(t *testing.T) {
	three := []string{"f1", "f2", "f3"}
	counts := map[string]int{}
	const n = 3000
	for i := range n {
		key := fmt.Sprintf("ns/t%d", i)
		p := PreferredNode(key, three)
		counts[p]++
		reversed := slices.Clone(three)
		slices.Reverse(reversed)
		if got := PreferredNode(key, reversed); got != p {
			t.Fatalf("%s: %s listed one way, %s the other", key, p, got)
		}
		for _, gone := range three {
			rest := slices.DeleteFunc(slices.Clone(three), func(s string) bool { return s == gone })
			got := PreferredNode(key, rest)
			if p != gone && got != p {
				t.Fatalf("%s moved from %s to %s when %s left", key, p, got, gone)
			}
			if got == gone {
				t.Fatalf("%s went to %s, which left", key, gone)
			}
		}
	}
	for _, node := range three {
		if c := counts[node]; c < n/3*9/10 || c > n/3*11/10 {
			t.Errorf("%s prefers %d of %d registrations, want about a third: %v", node, c, n, counts)
		}
	}
	if got := PreferredNode("ns/t", nil); got != "" {
		t.Errorf("no live node: %q", got)
	}
	if got := PreferredNode("ns/t", []string{"only"}); got != "only" {
		t.Errorf("one live node: %q", got)
	}
}

// A free registration falls to its preferred node, or to any node after
// the grace; a node hands a registration it runs to its preferred node,
// unless it took it after the grace.
func TestSpreadChoice(t *testing.T) {
	live := []string{"f1", "f2"}
	// find a key for each node
	keyOf := map[string]string{}
	for i := 0; len(keyOf) < 2; i++ {
		key := fmt.Sprintf("ns/t%d", i)
		if p := PreferredNode(key, live); keyOf[p] == "" {
			keyOf[p] = key
		}
	}
	const grace = 3 * time.Second
	for _, tc := range []struct {
		what    string
		key, me string
		freeFor time.Duration
		byGrace bool
		claims  bool
		yields  bool
	}{
		{"preferred, just free", keyOf["f1"], "f1", 0, false, true, false},
		{"not preferred, just free", keyOf["f2"], "f1", 0, false, false, true},
		{"not preferred, free under the grace", keyOf["f2"], "f1", grace - time.Millisecond, false, false, true},
		{"not preferred, free for the grace", keyOf["f2"], "f1", grace, true, true, false},
		{"preferred by the other", keyOf["f1"], "f2", 0, false, false, true},
	} {
		if got := claims(tc.key, tc.me, live, tc.freeFor, grace); got != tc.claims {
			t.Errorf("%s: claims %v, want %v", tc.what, got, tc.claims)
		}
		if got := yields(tc.key, tc.me, live, tc.byGrace); got != tc.yields {
			t.Errorf("%s: yields %v, want %v", tc.what, got, tc.yields)
		}
	}
	// Alone, a node claims and keeps everything.
	for _, key := range keyOf {
		if !claims(key, "f1", []string{"f1"}, 0, grace) || yields(key, "f1", []string{"f1"}, false) {
			t.Errorf("%s: a lone node does not keep it", key)
		}
	}
}
