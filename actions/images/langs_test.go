package images

import (
	"reflect"
	"testing"

	"github.com/wispio/wisp/actions"
)

// TestForKindsCoversEveryImageKind: every kind of the default table with an
// image gets a runtime to build when this machine has its toolchain, with
// the proxy runtime of its family.
func TestForKindsCoversEveryImageKind(t *testing.T) {
	got := map[string]Runtime{}
	for _, r := range ForKinds(actions.DefaultKinds()) {
		got[r.Kind] = r
	}
	for kind, proxyRuntime := range map[string]string{"java:17": "java", actions.GoKind(): "go", "ruby:3": "ruby", "php:8": "php"} {
		r, ok := got[kind]
		if !ok {
			t.Logf("%s: no toolchain here", kind)
			continue
		}
		if r.Proxy != proxyRuntime || r.Image == "" || r.Interpreter == "" {
			t.Errorf("%s = %+v, want proxy runtime %s, an image and an interpreter", kind, r, proxyRuntime)
		}
		if (kind == "java:17" || kind == actions.GoKind()) && (r.Generate == nil || r.GenerateKey == "" || len(r.Args) != 2) {
			t.Errorf("%s has no generated files or proxy arguments: %+v", kind, r)
		}
	}
}

// TestTopFolders keeps existing folders not inside another of the list.
func TestTopFolders(t *testing.T) {
	a := t.TempDir()
	in := []string{a + "/x", a, "/nonexistent/folder", a}
	if got := topFolders(in); !reflect.DeepEqual(got, []string{a}) {
		t.Fatalf("topFolders(%q) = %q", in, got)
	}
}
