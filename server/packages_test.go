package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// showParams returns the parameters it was invoked with.
const showParams = `function main(p) { return p }`

func TestPackageCRUD(t *testing.T) {
	_, ts := startTenants(t, "alice")
	a := ts["alice"]
	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/tools", map[string]any{"parameters": keyValues(map[string]any{"p": 1})})
	a.must(t, http.StatusConflict, http.MethodPut, "/namespaces/_/packages/tools", map[string]any{})
	a.action(t, "tools/show", showParams, nil, nil)

	var pkg struct {
		Namespace string
		Name      string
		Binding   map[string]any
		Actions   []struct{ Name string }
		Feeds     []any
	}
	_ = json.Unmarshal(a.must(t, http.StatusOK, http.MethodGet, "/namespaces/_/packages/tools", nil), &pkg)
	if pkg.Namespace != "alice" || pkg.Name != "tools" || len(pkg.Binding) != 0 || len(pkg.Actions) != 1 || pkg.Actions[0].Name != "show" || pkg.Feeds == nil {
		t.Fatalf("package = %+v", pkg)
	}
	var list []struct{ Name string }
	_ = json.Unmarshal(a.must(t, http.StatusOK, http.MethodGet, "/namespaces/_/actions/tools/", nil), &list)
	if len(list) != 1 || list[0].Name != "tools/show" {
		t.Fatalf("package actions = %+v", list)
	}
	if out := a.must(t, http.StatusOK, http.MethodGet, "/namespaces/_/packages?count=true", nil); !jsonEqual(t, out, map[string]int{"packages": 1}) {
		t.Fatalf("count = %s", out)
	}

	tests := []struct {
		name, method, path string
		body               any
		status             int
		msg                string
	}{
		{"delete non-empty", http.MethodDelete, "/namespaces/_/packages/tools", nil, http.StatusConflict, "Package not empty (contains 1 entity)"},
		{"reserved name", http.MethodPut, "/namespaces/_/packages/default", map[string]any{}, http.StatusBadRequest, "Package name 'default' is reserved."},
		{"action in missing package", http.MethodPut, "/namespaces/_/actions/nope/a", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": showParams}}, http.StatusNotFound, "does not exist"},
		{"binding to missing package", http.MethodPut, "/namespaces/_/packages/b", map[string]any{"binding": map[string]any{"namespace": "_", "name": "nope"}}, http.StatusBadRequest, "binding: Binding references a package that does not exist."},
		{"package becomes binding", http.MethodPut, "/namespaces/_/packages/tools?overwrite=true", map[string]any{"binding": map[string]any{"namespace": "whisk.system", "name": "utils"}}, http.StatusConflict, "cannot be converted into a binding"},
		{"other namespace write", http.MethodPut, "/namespaces/whisk.system/packages/x", map[string]any{}, http.StatusForbidden, "not authorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := a.call(t, tt.method, tt.path, tt.body)
			if status != tt.status || !strings.Contains(string(out), tt.msg) {
				t.Fatalf("%s %s = %d %s, want %d with %q", tt.method, tt.path, status, out, tt.status, tt.msg)
			}
		})
	}

	a.must(t, http.StatusOK, http.MethodDelete, "/namespaces/_/actions/tools/show", nil)
	a.must(t, http.StatusOK, http.MethodDelete, "/namespaces/_/packages/tools", nil)
	a.must(t, http.StatusNotFound, http.MethodGet, "/namespaces/_/packages/tools", nil)
}

func TestBindingParameterPrecedence(t *testing.T) {
	_, ts := startTenants(t, "alice")
	a := ts["alice"]
	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/pkg", map[string]any{
		"parameters": keyValues(map[string]any{"a": "package", "b": "package", "c": "package", "d": "package"})})
	a.action(t, "pkg/show", showParams, map[string]any{"c": "action", "d": "action"}, nil)
	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/bound", map[string]any{
		"binding": map[string]any{"namespace": "_", "name": "pkg"}, "parameters": keyValues(map[string]any{"b": "binding", "c": "binding"})})

	tests := []struct {
		path string
		want map[string]any
	}{
		{"/namespaces/_/actions/bound/show", map[string]any{"a": "package", "b": "binding", "c": "action", "d": "invocation"}},
		{"/namespaces/_/actions/pkg/show", map[string]any{"a": "package", "b": "package", "c": "action", "d": "invocation"}},
	}
	for _, tt := range tests {
		act := a.invoke(t, tt.path, map[string]any{"d": "invocation"})
		if !jsonEqual(t, act.Response.Result, tt.want) {
			t.Errorf("%s = %s, want %v", tt.path, act.Response.Result, tt.want)
		}
		if v := act.Annotations.Get("path"); v != "alice/pkg/show" {
			t.Errorf("path annotation = %v", v)
		}
	}

	var bound struct {
		Binding    map[string]string
		Parameters []struct {
			Key   string
			Value string
		}
		Actions []struct{ Name string }
	}
	_ = json.Unmarshal(a.must(t, http.StatusOK, http.MethodGet, "/namespaces/_/packages/bound", nil), &bound)
	if bound.Binding["namespace"] != "alice" || bound.Binding["name"] != "pkg" || len(bound.Actions) != 1 || len(bound.Parameters) != 4 {
		t.Fatalf("binding = %+v", bound)
	}
	a.must(t, http.StatusBadRequest, http.MethodPut, "/namespaces/_/packages/bb", map[string]any{"binding": map[string]any{"namespace": "alice", "name": "bound"}})
	a.must(t, http.StatusBadRequest, http.MethodPut, "/namespaces/_/actions/bound/x", map[string]any{"exec": map[string]any{"kind": "nodejs:20", "code": showParams}})
	a.must(t, http.StatusOK, http.MethodGet, "/namespaces/_/actions/bound/show", nil)
	a.must(t, http.StatusOK, http.MethodDelete, "/namespaces/_/packages/bound", nil)
}

func TestPublishedPackagesAcrossNamespaces(t *testing.T) {
	_, ts := startTenants(t, "alice", "bob")
	a, b := ts["alice"], ts["bob"]
	b.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/pub", map[string]any{"publish": true, "parameters": keyValues(map[string]any{"owner": "bob"})})
	b.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/priv", map[string]any{})
	b.action(t, "pub/show", showParams, nil, nil)
	b.action(t, "priv/show", showParams, nil, nil)
	b.action(t, "loose", showParams, nil, nil)

	a.must(t, http.StatusOK, http.MethodGet, "/namespaces/bob/packages/pub", nil)
	a.must(t, http.StatusOK, http.MethodGet, "/namespaces/bob/actions/pub/show", nil)
	a.must(t, http.StatusOK, http.MethodGet, "/namespaces/bob/actions/pub/", nil)
	var listed []struct{ Name string }
	_ = json.Unmarshal(a.must(t, http.StatusOK, http.MethodGet, "/namespaces/bob/packages", nil), &listed)
	if len(listed) != 1 || listed[0].Name != "pub" {
		t.Fatalf("bob's packages as seen by alice = %+v", listed)
	}

	act := a.invoke(t, "/namespaces/bob/actions/pub/show", map[string]any{"x": 1})
	if !act.Response.Success || act.Namespace != "alice" || act.Annotations.Get("path") != "bob/pub/show" || !jsonEqual(t, act.Response.Result, map[string]any{"owner": "bob", "x": 1}) {
		t.Fatalf("cross-namespace activation = %+v %s", act, act.Response.Result)
	}
	a.activation(t, act.ActivationID) // recorded in alice's namespace

	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/mine", map[string]any{
		"binding": map[string]any{"namespace": "bob", "name": "pub"}, "parameters": keyValues(map[string]any{"owner": "alice"})})
	if act := a.invoke(t, "/namespaces/_/actions/mine/show", nil); !jsonEqual(t, act.Response.Result, map[string]any{"owner": "alice"}) {
		t.Fatalf("through binding = %s", act.Response.Result)
	}

	forbidden := []struct{ method, path string }{
		{http.MethodGet, "/namespaces/bob/packages/priv"},
		{http.MethodGet, "/namespaces/bob/packages/missing"},
		{http.MethodGet, "/namespaces/bob/actions/priv/show"},
		{http.MethodGet, "/namespaces/bob/actions/priv/"},
		{http.MethodPost, "/namespaces/bob/actions/priv/show?blocking=true"},
		{http.MethodPost, "/namespaces/bob/actions/loose?blocking=true"},
		{http.MethodPut, "/namespaces/bob/actions/pub/evil"},
		{http.MethodDelete, "/namespaces/bob/packages/pub"},
	}
	for _, f := range forbidden {
		if status, out := a.call(t, f.method, f.path, map[string]any{}); status != http.StatusForbidden || !strings.Contains(string(out), "not authorized") {
			t.Errorf("%s %s = %d %s, want 403", f.method, f.path, status, out)
		}
	}
	status, out := a.call(t, http.MethodPut, "/namespaces/_/packages/stolen", map[string]any{"binding": map[string]any{"namespace": "bob", "name": "priv"}})
	if status != http.StatusForbidden || !strings.Contains(string(out), "'bob/priv'") {
		t.Fatalf("binding to a private package = %d %s", status, out)
	}

	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/triggers/T", map[string]any{})
	a.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/rules/R", map[string]any{"trigger": "/_/T", "action": "/_/mine/show"})

	// Unpublishing takes effect on existing bindings at once.
	b.must(t, http.StatusOK, http.MethodPut, "/namespaces/_/packages/pub?overwrite=true", map[string]any{"publish": false})
	if status, _ := a.call(t, http.MethodPost, "/namespaces/_/actions/mine/show?blocking=true", nil); status != http.StatusForbidden {
		t.Fatalf("invoke through a binding to an unpublished package = %d", status)
	}
	// A rule's action that became forbidden logs the 403's message as an
	// application error in the trigger activation, as OpenWhisk's rules
	// (which invoke through its API) do.
	var fired struct{ ActivationID string }
	_ = json.Unmarshal(a.must(t, http.StatusAccepted, http.MethodPost, "/namespaces/_/triggers/T", map[string]any{}), &fired)
	tact := a.activation(t, fired.ActivationID)
	var rule struct {
		StatusCode int
		Success    bool
		Error      string
	}
	if len(tact.Logs) != 1 || json.Unmarshal([]byte(tact.Logs[0]), &rule) != nil {
		t.Fatalf("trigger activation logs = %q", tact.Logs)
	}
	if rule.StatusCode != 1 || rule.Success || rule.Error != "The supplied authentication is not authorized to access 'bob/pub'." {
		t.Fatalf("rule result = %+v, want an application error with the 403 message", rule)
	}
}

func TestCatalogueUtils(t *testing.T) {
	_, ts := startTenants(t, "alice")
	a := ts["alice"]
	tests := []struct {
		action string
		params any
		want   any
	}{
		{"echo", map[string]any{"payload": "Five fuzzy felines"}, map[string]any{"payload": "Five fuzzy felines"}},
		{"cat", map[string]any{"lines": []any{4, 2, 3}}, map[string]any{"lines": []any{4, 2, 3}, "payload": "4\n2\n3"}},
		{"sort", map[string]any{"lines": []any{"b", "c", "a"}}, map[string]any{"lines": []any{"a", "b", "c"}, "length": 3}},
		{"sort", map[string]any{"lines": []any{4, 2, 3}}, map[string]any{"lines": []any{2, 3, 4}, "length": 3}},
		{"head", map[string]any{"lines": []any{4, 2, 3}, "num": 2}, map[string]any{"lines": []any{4, 2}, "num": 2}},
		{"head", map[string]any{"lines": []any{4, 2, 3}}, map[string]any{"lines": []any{4}, "num": 1}},
		{"split", map[string]any{"payload": "one,two,three", "separator": ","}, map[string]any{"lines": []any{"one", "two", "three"}, "payload": "one,two,three"}},
		{"split", map[string]any{"payload": "a\nb"}, map[string]any{"lines": []any{"a", "b"}, "payload": "a\nb"}},
	}
	for _, tt := range tests {
		act := a.invoke(t, "/namespaces/whisk.system/actions/utils/"+tt.action, tt.params)
		if !act.Response.Success || !jsonEqual(t, act.Response.Result, tt.want) {
			t.Errorf("%s(%v) = %s, want %v", tt.action, tt.params, act.Response.Result, tt.want)
		}
	}
	date := resultOf(t, a.invoke(t, "/namespaces/whisk.system/actions/utils/date", nil))
	if s, _ := date["date"].(string); s == "" {
		t.Fatalf("date = %v", date)
	} else if _, err := time.Parse(time.RFC3339, s); err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	var utils struct {
		Publish bool
		Actions []struct{ Name string }
	}
	_ = json.Unmarshal(a.must(t, http.StatusOK, http.MethodGet, "/namespaces/whisk.system/packages/utils", nil), &utils)
	if !utils.Publish || len(utils.Actions) != 6 {
		t.Fatalf("utils = %+v", utils)
	}
}
