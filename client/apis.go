package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// The API gateway's management calls, as wsk makes them: the apimgmt web
// actions of whisk.system.
const apimgmtPath = "/web/whisk.system/apimgmt/"

// API is one API as createApi and getApi answer it.
type API struct {
	Namespace string `json:"namespace"`
	URL       string `json:"gwApiUrl"`
	TenantID  string `json:"tenantId"`
	// Swagger is the API's Swagger 2 document.
	Swagger json.RawMessage `json:"apidoc"`
}

// APIRoute is one operation of an API's swagger document.
type APIRoute struct {
	BasePath, Path, Verb, Name, Action, URL string
}

// Routes lists the operations of the API's swagger document.
func (a *API) Routes() ([]APIRoute, error) {
	var doc struct {
		BasePath string `json:"basePath"`
		Info     struct {
			Title string `json:"title"`
		} `json:"info"`
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(a.Swagger, &doc); err != nil {
		return nil, err
	}
	var out []APIRoute
	for path, ops := range doc.Paths {
		for verb, raw := range ops {
			var op struct {
				X *struct {
					Namespace string `json:"namespace"`
					Package   string `json:"package"`
					Action    string `json:"action"`
				} `json:"x-openwhisk"`
			}
			if verb == "parameters" || json.Unmarshal(raw, &op) != nil {
				continue
			}
			action := ""
			if op.X != nil {
				action = "/" + op.X.Namespace + "/" + op.X.Action
				if op.X.Package != "" {
					action = "/" + op.X.Namespace + "/" + op.X.Package + "/" + op.X.Action
				}
			}
			out = append(out, APIRoute{BasePath: doc.BasePath, Path: path, Verb: verb, Name: doc.Info.Title, Action: action, URL: a.URL + path})
		}
	}
	return out, nil
}

// CreateAPI sends a createApi body ({"apidoc": apidoc}) with a web action
// response type ("" for the server's default, json).
func (c *Client) CreateAPI(ctx context.Context, apidoc any, responseType string) (*API, *Response, error) {
	q := url.Values{}
	if responseType != "" {
		q.Set("responsetype", responseType)
	}
	var api API
	resp, err := c.call(ctx, request{method: http.MethodPost, path: apimgmtPath + "createApi.http", query: q, body: map[string]any{"apidoc": apidoc}}, &api)
	if err != nil {
		return nil, resp, err
	}
	return &api, resp, nil
}

// GetAPIs lists the namespace's APIs, or the one of basePath (a base path
// or an API name) when it is not empty.
func (c *Client) GetAPIs(ctx context.Context, basePath string, limit, skip int) ([]API, *Response, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}, "skip": {strconv.Itoa(skip)}}
	if basePath != "" {
		q.Set("basepath", basePath)
	}
	var out struct {
		APIs []struct {
			Value *API `json:"value"`
		} `json:"apis"`
	}
	resp, err := c.call(ctx, request{method: http.MethodGet, path: apimgmtPath + "getApi.http", query: q}, &out)
	if err != nil {
		return nil, resp, err
	}
	apis := make([]API, 0, len(out.APIs))
	for _, a := range out.APIs {
		if a.Value != nil {
			apis = append(apis, *a.Value)
		}
	}
	return apis, resp, nil
}

// DeleteAPI deletes an API, one relative path of it, or one operation.
func (c *Client) DeleteAPI(ctx context.Context, basePath, relPath, operation string) (*Response, error) {
	q := url.Values{"basepath": {basePath}}
	if relPath != "" {
		q.Set("relpath", relPath)
	}
	if operation != "" {
		q.Set("operation", operation)
	}
	return c.do(ctx, request{method: http.MethodDelete, path: apimgmtPath + "deleteApi.http", query: q})
}
