package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/wispio/wisp/server"
)

// runAPIGW measures a request through an API gateway route
// (/api/{namespace id}/bench/noop) against the same request to the web
// action it targets (/api/v1/web/bench/default/noop.json), interleaved on
// one warm container of the process backend.
func runAPIGW(ctx context.Context, n int, w io.Writer) error {
	dir, err := os.MkdirTemp("", "wisp-bench-apigw-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := startStack(ctx, dir, server.BackendProcess, "", nil)
	if err != nil {
		return err
	}
	defer s.close()
	routeURL, webURL, err := s.exposeNoop(ctx)
	if err != nil {
		return err
	}
	get := func(u string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := s.do(ctx, http.MethodGet, u, nil, false)
			return err
		}
	}
	if _, err := sample(ctx, 200, get(routeURL)); err != nil {
		return err
	}
	if _, err := sample(ctx, 200, get(webURL)); err != nil {
		return err
	}
	route, web, err := interleave(ctx, n, get(routeURL), get(webURL))
	if err != nil {
		return err
	}
	report(w, "API gateway route vs the same web action at /api/v1/web (GET, .json)", route, web)
	return nil
}

// exposeNoop makes the bench action a web action and routes GET
// /bench/noop to it with the createApi call wsk makes; it returns the
// route's and the web action's URLs.
func (s *stack) exposeNoop(ctx context.Context) (routeURL, webURL string, err error) {
	base := "http://" + s.srv.Addr()
	ann, _ := json.Marshal(map[string]any{"annotations": []map[string]any{{"key": "web-export", "value": true}}})
	if _, err := s.do(ctx, http.MethodPut, base+"/api/v1/namespaces/_/actions/noop?overwrite=true", ann, true); err != nil {
		return "", "", fmt.Errorf("export action: %w", err)
	}
	body, _ := json.Marshal(map[string]any{"apidoc": map[string]any{
		"namespace": "_", "gatewayBasePath": "/bench", "gatewayPath": "/noop", "gatewayMethod": "GET",
		"action": map[string]any{"name": "noop", "namespace": "_", "backendMethod": "GET", "backendUrl": base + "/api/v1/web/_/default/noop.http", "authkey": s.auth},
	}})
	out, err := s.do(ctx, http.MethodPost, base+"/api/v1/web/whisk.system/apimgmt/createApi.http?responsetype=json", body, true)
	if err != nil {
		return "", "", fmt.Errorf("create API: %w", err)
	}
	var ret struct {
		URL string `json:"gwApiUrl"`
	}
	if err := json.Unmarshal(out, &ret); err != nil || !strings.HasPrefix(ret.URL, base+"/api/") {
		return "", "", fmt.Errorf("create API answered %s", out)
	}
	return ret.URL + "/noop", base + "/api/v1/web/bench/default/noop.json", nil
}
