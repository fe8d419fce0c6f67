package actions

import (
	"runtime"
	"strings"
	"testing"
)

// TestDefaultKindsResolve: each language's family name and :default
// resolve to its one kind, which has an image.
func TestDefaultKindsResolve(t *testing.T) {
	k := DefaultKinds()
	for _, tt := range []struct{ requested, want string }{
		{"java", "java:17"}, {"java:default", "java:17"}, {"ruby:default", "ruby:3"}, {"php", "php:8"},
		{"go:default", GoKind()}, {"nodejs:default", "nodejs:20"}, {"python", "python:3"},
	} {
		got, ok := k.Resolve(tt.requested)
		rt, _ := k.Get(got)
		if !ok || got != tt.want || rt.Image == "" {
			t.Errorf("Resolve(%q) = %q %v (image %q), want %q with an image", tt.requested, got, ok, rt.Image, tt.want)
		}
	}
	if _, ok := k.Resolve("swift:default"); ok {
		t.Error("swift resolves, but Wisp ships no swift runtime")
	}
}

// TestGoKind: the go kind is named after this binary's Go, major.minor.
func TestGoKind(t *testing.T) {
	v := strings.TrimPrefix(runtime.Version(), "go")
	if got := GoKind(); !strings.HasPrefix(v, strings.TrimPrefix(got, "go:")+".") && got != "go:1" {
		t.Fatalf("GoKind() = %q for Go %s", got, runtime.Version())
	}
}
