package client

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		in        string
		defaultNS string
		want      QualifiedName
		path      string
		fails     bool
	}{
		{in: "hello", want: QualifiedName{"_", "", "hello"}, path: "/namespaces/_/actions/hello"},
		{in: "hello", defaultNS: "guest", want: QualifiedName{"guest", "", "hello"}, path: "/namespaces/guest/actions/hello"},
		{in: "utils/echo", want: QualifiedName{"_", "utils", "echo"}, path: "/namespaces/_/actions/utils/echo"},
		{in: "/whisk.system/echo", want: QualifiedName{"whisk.system", "", "echo"}, path: "/namespaces/whisk.system/actions/echo"},
		{in: "/whisk.system/utils/echo", want: QualifiedName{"whisk.system", "utils", "echo"}, path: "/namespaces/whisk.system/actions/utils/echo"},
		{in: "/_/hello", defaultNS: "guest", want: QualifiedName{"_", "", "hello"}, path: "/namespaces/_/actions/hello"},
		{in: "say hi", want: QualifiedName{"_", "", "say hi"}, path: "/namespaces/_/actions/say%20hi"},
		{in: "me@example.com_dev/a-b.c", want: QualifiedName{"_", "me@example.com_dev", "a-b.c"}, path: "/namespaces/_/actions/me@example.com_dev/a-b.c"},
		{in: "", fails: true},
		{in: "/", fails: true},
		{in: "/ns", fails: true},
		{in: "/ns/", fails: true},
		{in: "a/b/c", fails: true},
		{in: "/a/b/c/d", fails: true},
		{in: "pkg/", fails: true},
		{in: "//x", fails: true},
		{in: "-x", fails: true},
		{in: " x", fails: true},
		{in: "x ", fails: true},
		{in: "x?y", fails: true},
		{in: "x%2Fy", fails: true},
		{in: strings.Repeat("a", 257), fails: true},
		{in: strings.Repeat("a", 256), want: QualifiedName{"_", "", strings.Repeat("a", 256)}, path: "/namespaces/_/actions/" + strings.Repeat("a", 256)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseName(tt.in, tt.defaultNS)
			if tt.fails {
				if err == nil {
					t.Fatalf("ParseName(%q) = %+v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseName(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
			if p := got.path("actions"); p != tt.path {
				t.Fatalf("path = %q, want %q", p, tt.path)
			}
		})
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"hello", "pkg/hello", "/ns/hello", "/ns/pkg/hello", "say hi", "/a//b", "x?y#z", "%2F", "/_/_/_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		qn, err := ParseName(s, "guest")
		if err != nil {
			return
		}
		// The canonical form parses back to the same name.
		again, err := ParseName(qn.String(), "other")
		if err != nil || again != qn {
			t.Fatalf("ParseName(%q) = %+v, but its String %q parses to %+v, %v", s, qn, qn.String(), again, err)
		}
		// The escaped path is one URL path whose segments decode to the parts.
		p := qn.path("actions")
		u, err := url.Parse("http://h" + p)
		if err != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("path %q of %+v is not a plain URL path: %v", p, qn, err)
		}
		want := "/namespaces/" + qn.Namespace + "/actions/" + qn.Entity()
		if u.Path != want {
			t.Fatalf("path %q decodes to %q, want %q", p, u.Path, want)
		}
	})
}
