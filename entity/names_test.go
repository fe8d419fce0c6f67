package entity

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"hello", true},
		{"_private", true},
		{"a.b-c@d", true},
		{"with inner space", true},
		{"9lives", true},
		{strings.Repeat("a", 256), true},
		{"", false},
		{strings.Repeat("a", 257), false},
		{"-dash", false},
		{".dot", false},
		{"@at", false},
		{" lead", false},
		{"trail ", false},
		{"sla/sh", false},
		{"ünï", false},
		{"semi;colon", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName("name", tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
			if err != nil {
				fe, ok := AsFieldError(err)
				if !ok || fe.Field != "name" {
					t.Fatalf("error %v does not name the field", err)
				}
			}
		})
	}
}

func TestParseFQN(t *testing.T) {
	tests := []struct {
		in      string
		want    FQN
		wantErr bool
	}{
		{in: "hello", want: FQN{Namespace: "me", Name: "hello"}},
		{in: "pkg/hello", want: FQN{Namespace: "me", Package: "pkg", Name: "hello"}},
		{in: "/ns/hello", want: FQN{Namespace: "ns", Name: "hello"}},
		{in: "/_/hello", want: FQN{Namespace: "me", Name: "hello"}},
		{in: "/ns/pkg/hello", want: FQN{Namespace: "ns", Package: "pkg", Name: "hello"}},
		{in: "", wantErr: true},
		{in: "/ns", wantErr: true},
		{in: "a/b/c", wantErr: true},
		{in: "/a/b/c/d", wantErr: true},
		{in: "pkg/", wantErr: true},
		{in: "/ns/-bad", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFQN("action", tt.in, "me")
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFQN(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("ParseFQN(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFQNStrings(t *testing.T) {
	f := FQN{Namespace: "ns", Package: "pkg", Name: "a"}
	if f.String() != "/ns/pkg/a" || f.Path() != "pkg/a" {
		t.Fatalf("got %q %q", f.String(), f.Path())
	}
	g := FQN{Namespace: "ns", Name: "a"}
	if g.String() != "/ns/a" || g.Path() != "a" {
		t.Fatalf("got %q %q", g.String(), g.Path())
	}
}

func FuzzParseFQN(f *testing.F) {
	for _, s := range []string{"a", "/ns/a", "/ns/p/a", "p/a", "//", "/_/x y", "a@b.c-d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fqn, err := ParseFQN("name", s, "me")
		if err != nil {
			if _, ok := AsFieldError(err); !ok {
				t.Fatalf("error %v is not a FieldError", err)
			}
			return
		}
		again, err := ParseFQN("name", fqn.String(), "me")
		if err != nil || again != fqn {
			t.Fatalf("round trip of %q: %+v, %v (was %+v)", s, again, err, fqn)
		}
	})
}
