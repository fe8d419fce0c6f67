package routing

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

func param(k, v string) entity.KeyValue {
	return entity.KeyValue{Key: k, Value: []byte(`"` + v + `"`)}
}

// resolverFixture stores: alice/pkg (params a,b,c,d = package), its action
// show (c,d = action), alice/bound → alice/pkg (b,c = binding), bob/pub
// (published) with action show, bob/priv with action show, and alice's
// binding mine → bob/pub and theirs → bob/priv (made before it turned
// private, say).
func resolverFixture(t *testing.T) *Resolver {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	put := func(ns string, c store.Collection, name string, v any) {
		if _, err := store.PutDoc(ctx, st, ns, c, name, "", v); err != nil {
			t.Fatal(err)
		}
	}
	put("alice", store.Packages, "pkg", &entity.Package{Namespace: "alice", Name: "pkg", Parameters: entity.Params{param("a", "package"), param("b", "package"), param("c", "package"), param("d", "package")}})
	put("alice", store.Actions, "pkg/show", &entity.Action{Namespace: "alice", Name: "pkg/show", Parameters: entity.Params{param("c", "action"), param("d", "action")}})
	put("alice", store.Packages, "bound", &entity.Package{Namespace: "alice", Name: "bound", Binding: entity.Binding{Namespace: "alice", Name: "pkg"}, Parameters: entity.Params{param("b", "binding"), param("c", "binding")}})
	put("alice", store.Actions, "plain", &entity.Action{Namespace: "alice", Name: "plain", Parameters: entity.Params{param("x", "action")}})
	put("bob", store.Packages, "pub", &entity.Package{Namespace: "bob", Name: "pub", Publish: true, Parameters: entity.Params{param("owner", "bob")}})
	put("bob", store.Actions, "pub/show", &entity.Action{Namespace: "bob", Name: "pub/show"})
	put("bob", store.Packages, "priv", &entity.Package{Namespace: "bob", Name: "priv"})
	put("bob", store.Actions, "priv/show", &entity.Action{Namespace: "bob", Name: "priv/show"})
	put("bob", store.Actions, "loose", &entity.Action{Namespace: "bob", Name: "loose", Publish: true})
	put("alice", store.Packages, "mine", &entity.Package{Namespace: "alice", Name: "mine", Binding: entity.Binding{Namespace: "bob", Name: "pub"}, Parameters: entity.Params{param("owner", "alice")}})
	put("alice", store.Packages, "theirs", &entity.Package{Namespace: "alice", Name: "theirs", Binding: entity.Binding{Namespace: "bob", Name: "priv"}})
	return NewResolver(st)
}

func TestResolveParameterPrecedence(t *testing.T) {
	r := resolverFixture(t)
	tests := []struct {
		subject, name string
		concrete      string
		want          map[string]string
	}{
		{"alice", "/alice/bound/show", "/alice/pkg/show", map[string]string{"a": "package", "b": "binding", "c": "action", "d": "action"}},
		{"alice", "/alice/pkg/show", "/alice/pkg/show", map[string]string{"a": "package", "b": "package", "c": "action", "d": "action"}},
		{"alice", "/alice/plain", "/alice/plain", map[string]string{"x": "action"}},
		{"alice", "/bob/pub/show", "/bob/pub/show", map[string]string{"owner": "bob"}},
		{"alice", "/alice/mine/show", "/bob/pub/show", map[string]string{"owner": "alice"}},
		{"bob", "/bob/priv/show", "/bob/priv/show", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := entity.ParseFQN("name", tt.name, tt.subject)
			res, err := r.Action(context.Background(), tt.subject, f)
			if err != nil {
				t.Fatal(err)
			}
			if res.FQN.String() != tt.concrete {
				t.Fatalf("concrete = %s, want %s", res.FQN, tt.concrete)
			}
			got := map[string]string{}
			for _, kv := range res.Params {
				got[kv.Key] = string(kv.Value[1 : len(kv.Value)-1])
			}
			if len(got) != len(tt.want) {
				t.Fatalf("params = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("params = %v, want %v", got, tt.want)
				}
			}
			// With the invocation on top, as the activator merges it.
			run := string(RunParams(res.Params, entity.Params{param("d", "invocation")}))
			if _, hasD := tt.want["d"]; hasD && !contains(run, `"d":"invocation"`) {
				t.Fatalf("run params = %s", run)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestResolveEntitlement(t *testing.T) {
	r := resolverFixture(t)
	tests := []struct {
		subject, name string
		want          string // "", "forbidden" or "notfound"
	}{
		{"alice", "/bob/priv/show", "forbidden"},
		{"alice", "/bob/loose", "forbidden"}, // publish on an action alone shares nothing
		{"alice", "/bob/missing/show", "forbidden"},
		{"alice", "/alice/theirs/show", "forbidden"},
		{"alice", "/bob/pub/missing", "notfound"},
		{"alice", "/alice/missing/show", "notfound"},
		{"alice", "/alice/nothing", "notfound"},
		{"bob", "/bob/loose", ""},
		{"bob", "/alice/pkg/show", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.subject+tt.name, func(t *testing.T) {
			f, _ := entity.ParseFQN("name", tt.name, tt.subject)
			_, err := r.Action(context.Background(), tt.subject, f)
			var fe *ForbiddenError
			switch {
			case tt.want == "" && err != nil,
				tt.want == "forbidden" && !errors.As(err, &fe),
				tt.want == "notfound" && !errors.Is(err, store.ErrNotFound):
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestCheckBinding(t *testing.T) {
	r := resolverFixture(t)
	tests := []struct {
		b    entity.Binding
		want string
	}{
		{entity.Binding{Namespace: "bob", Name: "pub"}, ""},
		{entity.Binding{Namespace: "alice", Name: "pkg"}, ""},
		{entity.Binding{Namespace: "bob", Name: "priv"}, "not authorized"},
		{entity.Binding{Namespace: "bob", Name: "none"}, "binding: Binding references a package that does not exist."},
		{entity.Binding{Namespace: "alice", Name: "bound"}, "binding: Cannot bind to another package binding."},
	}
	for _, tt := range tests {
		err := r.CheckBinding(context.Background(), "alice", tt.b)
		if (tt.want == "") != (err == nil) || err != nil && !contains(err.Error(), tt.want) {
			t.Errorf("CheckBinding(%v) = %v, want %q", tt.b, err, tt.want)
		}
	}
}
