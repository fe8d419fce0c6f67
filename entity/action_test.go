package entity

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func resolveTest(kind string) (string, bool) {
	switch kind {
	case "nodejs:default", "nodejs:20":
		return "nodejs:20", true
	case "python:3":
		return "python:3", true
	case "native", "native:default":
		return "native", true
	case "java:17":
		return "java:17", true
	}
	return "", false
}

func ptr[T any](v T) *T { return &v }

func TestBuildActionCreate(t *testing.T) {
	lim := DefaultSystemLimits()
	fqn := FQN{Namespace: "ns", Name: "hello"}
	a, err := BuildAction(fqn, &ActionPut{Exec: &ExecPatch{Kind: "nodejs:default", Code: ptr("function main(){}")}}, nil, lim, resolveTest, 42)
	if err != nil {
		t.Fatal(err)
	}
	if a.Exec.Kind != "nodejs:20" || a.Version != "0.0.1" || a.Namespace != "ns" || a.Updated != 42 {
		t.Fatalf("unexpected action %+v", a)
	}
	if a.Limits != lim.Defaults() {
		t.Fatalf("limits = %+v, want defaults", a.Limits)
	}
	if v, _ := a.Annotations.GetString("exec"); v != "nodejs:20" {
		t.Fatalf("exec annotation = %q", v)
	}
}

func TestBuildActionUpdate(t *testing.T) {
	lim := DefaultSystemLimits()
	fqn := FQN{Namespace: "ns", Name: "hello"}
	old, err := BuildAction(fqn, &ActionPut{
		Exec:       &ExecPatch{Kind: "python:3", Code: ptr("def main(a): return a")},
		Parameters: Params{{Key: "x", Value: json.RawMessage(`1`)}},
		Limits:     &ActionLimitsPatch{Timeout: ptr(1000)},
	}, nil, lim, resolveTest, 1)
	if err != nil {
		t.Fatal(err)
	}
	upd, err := BuildAction(fqn, &ActionPut{Limits: &ActionLimitsPatch{Memory: ptr(512)}}, old, lim, resolveTest, 2)
	if err != nil {
		t.Fatal(err)
	}
	if upd.Version != "0.0.2" || upd.Exec.Code != old.Exec.Code || upd.Limits.Timeout != 1000 || upd.Limits.Memory != 512 || len(upd.Parameters) != 1 {
		t.Fatalf("update lost fields: %+v", upd)
	}
	if old.Limits.Memory != 256 {
		t.Fatal("update changed the old action")
	}
}

func TestBuildActionErrors(t *testing.T) {
	lim := DefaultSystemLimits()
	lim.CodeSize = 100
	lim.ParamsSize = 100
	big := Params{{Key: "k", Value: json.RawMessage(`"` + strings.Repeat("v", 100) + `"`)}}
	zip := base64.StdEncoding.EncodeToString([]byte("PK\x03\x04 rest of a zip file"))
	tests := []struct {
		name     string
		req      ActionPut
		field    string
		tooLarge bool
	}{
		{"no exec", ActionPut{}, "exec", false},
		{"no kind", ActionPut{Exec: &ExecPatch{Code: ptr("x")}}, "exec.kind", false},
		{"unknown kind", ActionPut{Exec: &ExecPatch{Kind: "nodejs:99", Code: ptr("x")}}, "exec.kind", false},
		{"no code", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20"}}, "exec.code", false},
		{"code too large", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr(strings.Repeat("x", 101))}}, "exec.code", true},
		{"bad main", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x"), Main: "a b"}}, "exec.main", false},
		{"class#method outside java", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x"), Main: "Main#run"}}, "exec.main", false},
		{"two # in a java main", ActionPut{Exec: &ExecPatch{Kind: "java:17", Code: ptr("x"), Main: "Main#a#b"}}, "exec.main", false},
		{"blackbox without image", ActionPut{Exec: &ExecPatch{Kind: "blackbox"}}, "exec.image", false},
		{"empty sequence", ActionPut{Exec: &ExecPatch{Kind: "sequence"}}, "exec.components", false},
		{"timeout too small", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Limits: &ActionLimitsPatch{Timeout: ptr(99)}}, "limits.timeout", false},
		{"memory too large", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Limits: &ActionLimitsPatch{Memory: ptr(513)}}, "limits.memory", false},
		{"logs too large", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Limits: &ActionLimitsPatch{Logs: ptr(11)}}, "limits.logs", false},
		{"concurrency zero", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Limits: &ActionLimitsPatch{Concurrency: ptr(0)}}, "limits.concurrency", false},
		{"duplicate parameter", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr(zip)}, Parameters: Params{{Key: "a", Value: json.RawMessage(`1`)}, {Key: "a", Value: json.RawMessage(`1`)}}}, "parameters", false},
		{"parameters too large", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Parameters: big}, "parameters", true},
		{"annotations too large", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Annotations: big}, "annotations", true},
		{"duplicate annotation", ActionPut{Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}, Annotations: Params{{Key: "a", Value: json.RawMessage(`1`)}, {Key: "a", Value: json.RawMessage(`1`)}}}, "annotations", false},
		{"name mismatch", ActionPut{Name: "other", Exec: &ExecPatch{Kind: "nodejs:20", Code: ptr("x")}}, "name", false},
		{"native without code", ActionPut{Exec: &ExecPatch{Kind: "native"}}, "exec.code", false},
		{"native text code", ActionPut{Exec: &ExecPatch{Kind: "native:default", Code: ptr("#!/bin/sh")}}, "exec.binary", false},
		{"native code not base64", ActionPut{Exec: &ExecPatch{Kind: "native", Code: ptr("#!/bin/sh"), Binary: ptr(true)}}, "exec.code", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildAction(FQN{Namespace: "ns", Name: "a"}, &tt.req, nil, lim, resolveTest, 0)
			fe, ok := AsFieldError(err)
			if !ok {
				t.Fatalf("error = %v, want a FieldError", err)
			}
			if fe.Field != tt.field || fe.TooLarge != tt.tooLarge {
				t.Fatalf("error = %+v, want field %q tooLarge=%v", fe, tt.field, tt.tooLarge)
			}
		})
	}
}

// TestBuildActionJavaMain: a java action's main may name the method after
// the class, as OpenWhisk's Class#method.
func TestBuildActionJavaMain(t *testing.T) {
	a, err := BuildAction(FQN{Namespace: "ns", Name: "a"}, &ActionPut{Exec: &ExecPatch{Kind: "java:17", Code: ptr("UEsDBA=="), Binary: ptr(true), Main: "com.example.Hello#add"}}, nil, DefaultSystemLimits(), resolveTest, 0)
	if err != nil || a.Exec.Main != "com.example.Hello#add" {
		t.Fatalf("java action = %+v, %v", a, err)
	}
}

func TestBuildActionNative(t *testing.T) {
	exe := base64.StdEncoding.EncodeToString([]byte("\x7fELF an executable"))
	zip := base64.StdEncoding.EncodeToString([]byte("PK\x03\x04 a zip with exec"))
	for _, p := range []ExecPatch{
		{Kind: "native", Code: &exe, Binary: ptr(true)},
		{Kind: "native:default", Code: &zip},
	} {
		a, err := BuildAction(FQN{Namespace: "ns", Name: "a"}, &ActionPut{Exec: &p}, nil, DefaultSystemLimits(), resolveTest, 0)
		if err != nil {
			t.Fatalf("%s: %v", p.Kind, err)
		}
		if a.Exec.Kind != "native" || !a.Exec.Binary || a.Exec.Code != *p.Code {
			t.Fatalf("%s: exec = %+v", p.Kind, a.Exec)
		}
	}
}

func TestIsZip(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{base64.StdEncoding.EncodeToString([]byte("PK\x03\x04abcdefgh")), true},
		{base64.StdEncoding.EncodeToString([]byte("function main(){}")), false},
		{"function main() { return {} }", false},
		{"", false},
		{"UEsDBA", false},
	}
	for _, tt := range tests {
		if got := IsZip(tt.code); got != tt.want {
			t.Errorf("IsZip(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestNextVersion(t *testing.T) {
	for in, want := range map[string]string{"0.0.1": "0.0.2", "1.2.9": "1.2.10", "": "0.0.1", "x.y.z": "0.0.1"} {
		if got := NextVersion(in); got != want {
			t.Errorf("NextVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
