package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/wispio/wisp/apigw"
)

// TestCreateAPILimits: createApi refuses, 413 naming apidoc, a definition
// that would give the namespace more than apigw.MaxRoutes routes, whether
// in one swagger document or added one call after another; at the limit
// it is stored.
func TestCreateAPILimits(t *testing.T) {
	f := newFixture(t)
	if code, _, raw := f.do(t, "PUT", "/api/v1/namespaces/_/actions/hello",
		`{"exec":{"kind":"nodejs:20","code":"x"},"annotations":[{"key":"web-export","value":true}]}`, &f.auth); code != 200 {
		t.Fatalf("web action: %d %s", code, raw)
	}
	swagger := func(base string, routes int) string {
		paths := make(map[string]any, routes)
		for i := range routes {
			paths["/r"+strconv.Itoa(i)] = map[string]any{"get": map[string]any{
				"x-openwhisk": map[string]any{"namespace": "_", "action": "hello", "url": "https://h/api/v1/web/_/default/hello.json"}}}
		}
		doc, _ := json.Marshal(map[string]any{"swagger": "2.0", "basePath": base, "info": map[string]any{"title": base}, "paths": paths})
		body, _ := json.Marshal(map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": string(doc)}})
		return string(body)
	}
	for _, tt := range []struct {
		name   string
		body   string
		status int
	}{
		{"one document over the limit", swagger("/over", apigw.MaxRoutes+1), 413},
		{"at the limit", swagger("/full", apigw.MaxRoutes), 200},
		{"one more route", swagger("/more", 1), 413},
		{"replacing the full API", swagger("/full", apigw.MaxRoutes-1), 200},
		{"one more route once there is room", swagger("/more", 1), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body, raw := f.do(t, "POST", "/api/v1/web/whisk.system/apimgmt/createApi", tt.body, &f.auth)
			if code != tt.status {
				t.Fatalf("status = %d, want %d (%.300s)", code, tt.status, raw)
			}
			if msg, _ := body["error"].(string); tt.status == 413 && (!strings.Contains(msg, "apidoc: the namespace's APIs would have") || body["code"] == "") {
				t.Fatalf("body = %.300s, want the error naming apidoc and a code", raw)
			}
		})
	}
}

// TestCreateAPIDepth: a swagger nesting deeper than entity.MaxJSONDepth
// answers 400 naming it, and nothing is stored; before, one 9,996 levels
// deep was stored and the namespace's table no longer decoded.
func TestCreateAPIDepth(t *testing.T) {
	f := newFixture(t)
	if code, _, raw := f.do(t, "PUT", "/api/v1/namespaces/_/actions/hello",
		`{"exec":{"kind":"nodejs:20","code":"x"},"annotations":[{"key":"web-export","value":true}]}`, &f.auth); code != 200 {
		t.Fatalf("web action: %d %s", code, raw)
	}
	params := strings.Repeat("[", 9_996) + strings.Repeat("]", 9_996)
	doc := `{"swagger":"2.0","basePath":"/d","info":{"title":"d"},"paths":{"/p":{"get":{"parameters":` + params +
		`,"x-openwhisk":{"namespace":"_","action":"hello","url":"https://h/api/v1/web/_/default/hello.json"}}}}}`
	body, _ := json.Marshal(map[string]any{"apidoc": map[string]any{"namespace": "_", "swagger": doc}})
	code, got, raw := f.do(t, "POST", "/api/v1/web/whisk.system/apimgmt/createApi", string(body), &f.auth)
	if msg, _ := got["error"].(string); code != 400 || !strings.Contains(msg, "apidoc.swagger: the JSON value nests arrays and objects deeper than the limit of 512 levels") {
		t.Fatalf("createApi = %d %.300s, want 400 naming apidoc.swagger", code, raw)
	}
	if _, err := apigw.NewRepo(f.store).Table(t.Context(), "me"); err != nil {
		t.Fatalf("the namespace's APIs do not read: %v", err)
	}
}
