package apigw

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Swagger is an API as the Swagger 2 document OpenWhisk's apimgmt
// actions return (wsk api get): x-openwhisk on every operation and the
// gateway's x-ibm-configuration with one target-url per operation. host
// is the base of web action URLs ("https://wisp.example.com").
type Swagger struct {
	Swagger             string                          `json:"swagger"`
	Info                SwaggerInfo                     `json:"info"`
	BasePath            string                          `json:"basePath"`
	Paths               map[string]map[string]SwaggerOp `json:"paths"`
	SecurityDefinitions map[string]securityScheme       `json:"securityDefinitions,omitempty"`
	Security            []map[string][]string           `json:"security,omitempty"`
	XIBMConfiguration   exportConfig                    `json:"x-ibm-configuration"`
	XIBMRateLimit       []RateLimit                     `json:"x-ibm-rate-limit,omitempty"`
}

// SwaggerInfo is the info object.
type SwaggerInfo struct {
	Title   string `json:"title"`
	Version string `json:"version"`
}

// SwaggerOp is one operation of a path.
type SwaggerOp struct {
	OperationID string          `json:"operationId"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	XOpenWhisk  XOpenWhisk      `json:"x-openwhisk"`
	// XWispManaged is the route's owner (Route.Managed), when it has one.
	XWispManaged json.RawMessage `json:"x-wisp-managed,omitempty"`
	Responses    json.RawMessage `json:"responses"`
}

// XOpenWhisk names an operation's web action.
type XOpenWhisk struct {
	Namespace string `json:"namespace"`
	Package   string `json:"package"`
	Action    string `json:"action"`
	URL       string `json:"url"`
}

type exportConfig struct {
	Assembly exportAssembly `json:"assembly"`
	CORS     CORS           `json:"cors"`
}

type exportAssembly struct {
	Execute []exportSwitch `json:"execute,omitempty"`
}

type exportSwitch struct {
	OperationSwitch struct {
		Case []exportCase `json:"case"`
	} `json:"operation-switch"`
}

type exportCase struct {
	Operations []string         `json:"operations"`
	Execute    []map[string]any `json:"execute"`
}

var defaultResponses = json.RawMessage(`{"default":{"description":"Default response"}}`)

// Export renders api as its swagger document.
func (api *API) Export(host string) *Swagger {
	host = strings.TrimSuffix(host, "/")
	sw := &Swagger{
		Swagger: "2.0", Info: SwaggerInfo{Title: api.Name, Version: "1.0.0"}, BasePath: api.BasePath,
		Paths: map[string]map[string]SwaggerOp{}, XIBMConfiguration: exportConfig{CORS: api.CORS},
	}
	var cases []exportCase
	for _, r := range api.Routes {
		ops := sw.Paths[r.Path]
		if ops == nil {
			ops = map[string]SwaggerOp{}
			sw.Paths[r.Path] = ops
		}
		u := WebActionURL(host, r.Action, r.ResponseType)
		ops[strings.ToLower(r.Method)] = SwaggerOp{
			OperationID: r.OperationID, Parameters: r.Parameters, Responses: defaultResponses,
			XOpenWhisk:   XOpenWhisk{Namespace: r.Action.Namespace, Package: r.Action.Package, Action: r.Action.Name, URL: u},
			XWispManaged: r.Managed,
		}
		target := u
		if r.ResponseType == "http" {
			target += "$(request.path)"
		}
		c := exportCase{Operations: []string{r.OperationID}, Execute: []map[string]any{{"invoke": map[string]string{"target-url": target, "verb": "keep"}}}}
		if len(r.SecureKey) > 0 {
			c.Execute = append(c.Execute, map[string]any{"set-variable": map[string]any{"actions": []map[string]any{{"set": "message.headers.X-Require-Whisk-Auth", "value": r.SecureKey}}}})
		}
		cases = append(cases, c)
	}
	if len(cases) > 0 {
		var sw1 exportSwitch
		sw1.OperationSwitch.Case = cases
		sw.XIBMConfiguration.Assembly.Execute = []exportSwitch{sw1}
	}
	if s := api.Security; s != nil {
		sw.SecurityDefinitions = map[string]securityScheme{s.Scheme: {Type: "apiKey", Name: s.Header, In: "header", ClientIDs: s.ClientIDs}}
		sw.Security = []map[string][]string{{s.Scheme: {}}}
	}
	if api.RateLimit != nil {
		sw.XIBMRateLimit = []RateLimit{*api.RateLimit}
	}
	return sw
}

// WebActionURL is the web action URL of a target with a response type.
func WebActionURL(host string, t Target, responseType string) string {
	pkg := t.Package
	if pkg == "" {
		pkg = "default"
	}
	return host + "/api/v1/web/" + url.PathEscape(t.Namespace) + "/" + url.PathEscape(pkg) + "/" + url.PathEscape(t.Name) + "." + responseType
}

// GatewayURL is the URL an API is served at: host/api/{namespace id}
// followed by the base path (none for "/").
func GatewayURL(host, namespaceID, basePath string) string {
	return strings.TrimSuffix(host, "/") + "/api/" + url.PathEscape(namespaceID) + strings.TrimSuffix(basePath, "/")
}
