package server

import "testing"

func TestSpanResource(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/namespaces/_/actions/hello", "actions"},
		{"/api/v1/namespaces/ns/triggers/t", "triggers"},
		{"/api/v1/namespaces/ns/actions/pkg/a/b", "actions"},
		{"/api/v1", "api"},
		{"/hooks/github/abc", "github"},
		{"/", ""},
	} {
		if got := resource(tc.path); got != tc.want {
			t.Errorf("resource(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
