// Package cluster_test checks the cluster deployment files beside it: the
// compose file, the Kubernetes manifests and the image they run. Every wisp
// command they hold must use flags that `wisp serve` defines (read from
// cmd/wisp's source) or that cluster mode adds (plannedFlags), with values
// that make sense for the node's role.
package cluster_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

// plannedFlags are the flags of `wisp serve` that cluster mode adds (written
// on another branch), each with whether it takes a value. Once serve defines
// them, serveFlags finds them in the source too.
func plannedFlags() map[string]bool {
	return map[string]bool{"role": true, "bus": true, "id": true}
}

// serveFlags returns the flags newServeCommand defines in cmd/wisp, each
// with whether it takes a value (false for Bool flags), plus plannedFlags.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(t), "cmd", "wisp")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	found := false
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "newServeCommand" {
				continue
			}
			found = true
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if name, takesValue, ok := flagDefinition(n); ok {
					flags[name] = takesValue
				}
				return true
			})
		}
	}
	if !found || len(flags) == 0 {
		t.Fatalf("no flags found in func newServeCommand in %s: update serveFlags to where serve defines its flags", dir)
	}
	for name, takesValue := range plannedFlags() {
		if _, ok := flags[name]; !ok {
			flags[name] = takesValue
		}
	}
	return flags
}

// flagDefinition recognises a pflag definition, f.StringVar(&v, "name", ...)
// or f.Var(value, "name", ...), and returns the flag's name.
func flagDefinition(n ast.Node) (name string, takesValue, ok bool) {
	call, isCall := n.(*ast.CallExpr)
	if !isCall {
		return "", false, false
	}
	sel, isSel := call.Fun.(*ast.SelectorExpr)
	if !isSel || !(strings.HasSuffix(sel.Sel.Name, "Var") || strings.HasSuffix(sel.Sel.Name, "VarP")) || len(call.Args) < 2 {
		return "", false, false
	}
	lit, isLit := call.Args[1].(*ast.BasicLit)
	if !isLit || lit.Kind != token.STRING {
		return "", false, false
	}
	name, err := strconv.Unquote(lit.Value)
	if err != nil {
		return "", false, false
	}
	return name, !strings.HasPrefix(sel.Sel.Name, "Bool"), true
}

// parseServe reads the arguments of a wisp container, "serve" and its
// flags, into flag name → value ("" for a bool flag).
func parseServe(args []string, known map[string]bool) (map[string]string, error) {
	if len(args) == 0 || args[0] != "serve" {
		return nil, fmt.Errorf("arguments %q: want the serve command first", args)
	}
	out := map[string]string{}
	for i := 1; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "--") {
			return nil, fmt.Errorf("argument %q: serve takes flags only", arg)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		takesValue, ok := known[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("flag --%s: wisp serve has no such flag", name)
		case takesValue && !hasValue:
			if i+1 == len(args) {
				return nil, fmt.Errorf("flag --%s: no value", name)
			}
			i++
			value = args[i]
		case !takesValue && hasValue:
			return nil, fmt.Errorf("flag --%s: a switch, given a value %q", name, value)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("flag --%s: given twice", name)
		}
		out[name] = value
	}
	return out, nil
}

// roles lists the roles of a node (--role, default all).
func roles(flags map[string]string) []string {
	r, ok := flags["role"]
	if !ok {
		return []string{"all"}
	}
	return strings.Split(r, ",")
}

// checkNode checks the flags of one cluster node: valid roles, a NATS bus,
// an address on port 3233 (where the probes go), an explicit id (the
// default, derived from the data folder, is the same /data in every
// container), a known invoker backend and no store URL (it holds the
// password: WISP_STORE carries it).
func checkNode(flags map[string]string) error {
	var errs []error
	for _, r := range roles(flags) {
		if !slices.Contains([]string{"controller", "invoker", "feeds", "all"}, r) {
			errs = append(errs, fmt.Errorf("--role: unknown role %q", r))
		}
	}
	if !slices.Equal(roles(flags), []string{"all"}) {
		bus := flags["bus"]
		host, ok := strings.CutPrefix(bus, "nats://")
		if _, _, err := net.SplitHostPort(host); !ok || err != nil {
			errs = append(errs, fmt.Errorf("--bus %q: want nats://HOST:PORT for a node that is not all roles", bus))
		}
	}
	if _, port, err := net.SplitHostPort(flags["addr"]); err != nil || port != "3233" {
		errs = append(errs, fmt.Errorf("--addr %q: want HOST:3233, the port the probes use", flags["addr"]))
	}
	if flags["id"] == "" {
		errs = append(errs, errors.New("--id: missing; every node of a cluster needs its own"))
	}
	if b, ok := flags["invoker"]; ok && !slices.Contains([]string{"auto", "docker", "process"}, b) {
		errs = append(errs, fmt.Errorf("--invoker: unknown backend %q", b))
	}
	if _, ok := flags["store"]; ok {
		errs = append(errs, errors.New("--store: on the command line the password shows in ps and in the manifest; set WISP_STORE"))
	}
	return errors.Join(errs...)
}

func TestParseServe(t *testing.T) {
	known := map[string]bool{"role": true, "addr": true, "docker-sockets": false}
	tests := []struct {
		name    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{name: "flags and switches", args: []string{"serve", "--role", "invoker", "--docker-sockets", "--addr=0.0.0.0:3233"},
			want: map[string]string{"role": "invoker", "docker-sockets": "", "addr": "0.0.0.0:3233"}},
		{name: "no serve", args: []string{"--role", "all"}, wantErr: "serve command first"},
		{name: "unknown flag", args: []string{"serve", "--rolls", "all"}, wantErr: "--rolls: wisp serve has no such flag"},
		{name: "missing value", args: []string{"serve", "--role"}, wantErr: "--role: no value"},
		{name: "switch with value", args: []string{"serve", "--docker-sockets=true"}, wantErr: "a switch"},
		{name: "positional", args: []string{"serve", "all"}, wantErr: "flags only"},
		{name: "twice", args: []string{"serve", "--role", "all", "--role", "feeds"}, wantErr: "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseServe(tt.args, known)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("parseServe = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestCheckNode(t *testing.T) {
	good := func() map[string]string {
		return map[string]string{"role": "controller,feeds", "bus": "nats://nats:4222", "addr": "0.0.0.0:3233", "id": "c-1"}
	}
	tests := []struct {
		name    string
		change  func(map[string]string)
		wantErr string
	}{
		{name: "good", change: func(map[string]string) {}},
		{name: "all roles need no bus", change: func(f map[string]string) { delete(f, "role"); delete(f, "bus") }},
		{name: "unknown role", change: func(f map[string]string) { f["role"] = "controller,scheduler" }, wantErr: `unknown role "scheduler"`},
		{name: "no bus", change: func(f map[string]string) { delete(f, "bus") }, wantErr: "--bus"},
		{name: "bus not nats", change: func(f map[string]string) { f["bus"] = "tcp://nats:4222" }, wantErr: "--bus"},
		{name: "other port", change: func(f map[string]string) { f["addr"] = "0.0.0.0:8080" }, wantErr: "--addr"},
		{name: "no id", change: func(f map[string]string) { delete(f, "id") }, wantErr: "--id"},
		{name: "backend", change: func(f map[string]string) { f["invoker"] = "podman" }, wantErr: "--invoker"},
		{name: "store on the command line", change: func(f map[string]string) { f["store"] = "couchdb://a:b@c:5984" }, wantErr: "WISP_STORE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good()
			tt.change(f)
			err := checkNode(f)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("checkNode = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("checkNode = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestServeFlagsFromSource(t *testing.T) {
	flags := serveFlags(t)
	for name, takesValue := range map[string]bool{"addr": true, "data": true, "invoker": true, "docker-sockets": false, "stem-cells": true, "role": true} {
		if got, ok := flags[name]; !ok || got != takesValue {
			t.Errorf("flag --%s: found %v, takes a value %v; want found, %v", name, ok, got, takesValue)
		}
	}
}
