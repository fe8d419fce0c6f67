package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/wispio/wisp/entity"
)

// Error is a refused API definition, with OpenWhisk's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func fail(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// creationFailure is how createApi prefixes what its checks of the final
// swagger refuse.
func creationFailure(format string, args ...any) error {
	return &Error{Msg: "API creation failure: " + fmt.Sprintf(format, args...)}
}

// APIDoc is the apidoc of a createApi request, as wsk and the npm client
// send it: either one endpoint (gatewayBasePath, gatewayPath,
// gatewayMethod, action) or a whole swagger document.
type APIDoc struct {
	Namespace       string          `json:"namespace"`
	APIName         string          `json:"apiName,omitempty"`
	GatewayBasePath string          `json:"gatewayBasePath,omitempty"`
	GatewayPath     string          `json:"gatewayPath,omitempty"`
	GatewayMethod   string          `json:"gatewayMethod,omitempty"`
	ID              string          `json:"id,omitempty"`
	Action          *ActionDoc      `json:"action,omitempty"`
	PathParameters  json.RawMessage `json:"pathParameters,omitempty"`
	// Managed is a Wisp extension: the owner recorded on the endpoint's
	// route (Route.Managed).
	Managed json.RawMessage `json:"x-wisp-managed,omitempty"`
	// Swagger is an object or a string holding one.
	Swagger json.RawMessage `json:"swagger,omitempty"`
}

// ActionDoc is the target of an endpoint.
type ActionDoc struct {
	Name          string          `json:"name"`
	Namespace     string          `json:"namespace"`
	BackendMethod string          `json:"backendMethod"`
	BackendURL    string          `json:"backendUrl"`
	AuthKey       string          `json:"authkey"`
	SecureKey     json.RawMessage `json:"secureKey,omitempty"`
}

// Change is a parsed createApi request: a whole API from a swagger
// document, or one endpoint to add to the API of its base path.
type Change struct {
	// API is the whole API (swagger), or the base path, name and CORS of
	// the endpoint's API when it does not exist yet.
	API *API
	// Endpoint, when set, is the route to add.
	Endpoint *Route
}

// Targets are the actions the change routes to.
func (c *Change) Targets() []Target {
	if c.Endpoint != nil {
		return []Target{c.Endpoint.Action}
	}
	var out []Target
	for _, r := range c.API.Routes {
		if !slices.Contains(out, r.Action) {
			out = append(out, r.Action)
		}
	}
	return out
}

// ParseCreate reads a createApi body {"apidoc": ...} for caller's
// namespace, with the web action response type of the query
// (responsetype, default json). The messages are those of OpenWhisk's
// createApi action.
func ParseCreate(body []byte, caller, responseType string) (*Change, error) {
	var req struct {
		APIDoc json.RawMessage `json:"apidoc"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, fail("apidoc field cannot be parsed. Ensure it is valid JSON.")
		}
	}
	raw, err := objectOrString(req.APIDoc, "apidoc")
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, fail("apidoc is required.")
	}
	if err := entity.CheckJSONDepth("apidoc", raw); err != nil {
		return nil, err
	}
	var doc APIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fail("apidoc field cannot be parsed. Ensure it is valid JSON.")
	}
	if doc.Namespace == "" {
		return nil, fail("apidoc is missing the namespace field")
	}
	if responseType == "" {
		responseType = "json"
	}
	if !slices.Contains(ResponseTypes, responseType) {
		return nil, fail("Invalid response type '%s'. Valid values are: %s", responseType, strings.Join(ResponseTypes, ", "))
	}
	if len(doc.Swagger) > 0 && string(doc.Swagger) != "null" {
		if doc.GatewayBasePath != "" {
			return nil, fail("swagger and gatewayBasePath are mutually exclusive and cannot be specified together.")
		}
		sw, err := objectOrString(doc.Swagger, "swagger")
		if err != nil {
			return nil, err
		}
		if err := entity.CheckJSONDepth("apidoc.swagger", sw); err != nil {
			return nil, err
		}
		api, err := ImportSwagger(sw, caller)
		if err != nil {
			return nil, err
		}
		return &Change{API: api}, nil
	}
	return parseEndpoint(&doc, caller, responseType)
}

// objectOrString returns a JSON object, or the object a JSON string
// holds; nil when raw is absent or null.
func objectOrString(raw json.RawMessage, field string) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '{':
		return raw, nil
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		inner := bytes.TrimSpace([]byte(s))
		if !json.Valid(inner) || len(inner) == 0 || inner[0] != '{' {
			return nil, fail("%s field cannot be parsed. Ensure it is valid JSON.", field)
		}
		return inner, nil
	}
	if field == "swagger" {
		return nil, fail("swagger field is %s and should be an object or a JSON string.", jsType(raw))
	}
	return nil, fail("apidoc field is of type %s and should be a JSON object or a JSON string.", jsType(raw))
}

// jsType names a JSON value's type as JavaScript's typeof does.
func jsType(raw json.RawMessage) string {
	switch raw[0] {
	case 't', 'f':
		return "boolean"
	case '[':
		return "object"
	}
	return "number"
}

func parseEndpoint(doc *APIDoc, caller, responseType string) (*Change, error) {
	switch {
	case doc.GatewayBasePath == "":
		return nil, fail("apidoc is missing the gatewayBasePath field")
	case doc.GatewayPath == "":
		return nil, fail("apidoc is missing the gatewayPath field")
	case doc.GatewayMethod == "":
		return nil, fail("apidoc is missing the gatewayMethod field")
	case doc.Action == nil:
		return nil, fail("apidoc is missing the action field.")
	case doc.Action.BackendMethod == "":
		return nil, fail("action is missing the backendMethod field.")
	case doc.Action.BackendURL == "":
		return nil, fail("action is missing the backendUrl field.")
	case doc.Action.Namespace == "":
		return nil, fail("action is missing the namespace field.")
	case doc.Action.Name == "":
		return nil, fail("action is missing the name field.")
	case doc.Action.AuthKey == "":
		return nil, fail("action is missing the authkey field.")
	}
	if err := checkBasePath(doc.GatewayBasePath); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(doc.GatewayPath, "/") {
		return nil, fail("'%s' must begin with '/'.", doc.GatewayPath)
	}
	method := strings.ToUpper(doc.GatewayMethod)
	if !slices.Contains(Methods, method) {
		return nil, fail("'%s' is not a valid API verb.  Valid values are: %s", doc.GatewayMethod, strings.Join(Methods, ", "))
	}
	// OpenWhisk's updateNamespace: the caller's namespace replaces the
	// apidoc's, and the action's when it was the same ("_").
	ns := doc.Action.Namespace
	if ns == doc.Namespace || ns == "_" {
		ns = caller
	}
	target, err := parseTarget(ns, doc.Action.Name)
	if err != nil {
		return nil, err
	}
	route := Route{
		Path: doc.GatewayPath, Method: method, OperationID: OperationID(method, doc.GatewayPath),
		Action: target, ResponseType: responseType, Parameters: doc.PathParameters, SecureKey: doc.Action.SecureKey,
		Managed: nullToNil(doc.Managed),
	}
	if string(route.Parameters) == "null" {
		route.Parameters = nil
	}
	if err := checkRoute(&route, nil); err != nil {
		return nil, err
	}
	name := doc.APIName
	if name == "" {
		name = doc.GatewayBasePath
	}
	api := &API{BasePath: doc.GatewayBasePath, Name: name, CORS: CORS{Enabled: true}}
	return &Change{API: api, Endpoint: &route}, nil
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return raw
}

// checkBasePath refuses a base path that does not start with "/" or has
// path parameters.
func checkBasePath(bp string) error {
	if !strings.HasPrefix(bp, "/") {
		return fail("'%s' must begin with '/'.", bp)
	}
	if len(PathParams(bp)) > 0 {
		return creationFailure("The base path (%s) cannot have parameters. Only the relative path supports path parameters.", bp)
	}
	return nil
}

// checkRoute applies validateFinalSwagger's checks to a route: path
// parameters need the http response type and a declaration among the
// operation's (or the path's) parameters.
func checkRoute(r *Route, pathLevel json.RawMessage) error {
	names := PathParams(r.Path)
	if len(names) == 0 {
		return nil
	}
	if r.ResponseType != "http" {
		return creationFailure("The action must use a response type of '.http' in order to receive the path parameters.")
	}
	declared := map[string]bool{}
	for _, raw := range []json.RawMessage{pathLevel, r.Parameters} {
		var ps []struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(raw, &ps) // a malformed list declares nothing
		for _, p := range ps {
			declared[p.Name] = true
		}
	}
	for _, n := range names {
		if !declared[n] {
			return creationFailure("The parameter '%s' defined in path '%s' does not match any of the parameters defined for the path in the swagger file.", n, r.Path)
		}
	}
	return nil
}

// parseTarget splits "pkg/action" or "action" of namespace ns.
func parseTarget(ns, name string) (Target, error) {
	name = strings.TrimPrefix(name, "/")
	parts := strings.Split(name, "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return Target{Namespace: ns, Name: parts[0]}, nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return Target{Namespace: ns, Package: parts[0], Name: parts[1]}, nil
	}
	return Target{}, fail("'%s' is not a valid action name.", name)
}

// OperationID is OpenWhisk's makeOperationId: the method in lower case
// and the relative path camel-cased at each character other than a
// letter, digit, '-' or '_' ("get", "/books/{isbn}" → "getBooksIsbn").
func OperationID(method, relpath string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	words := strings.FieldsFunc(relpath, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '-' || r == '_')
	})
	for _, w := range words {
		i := strings.IndexFunc(w, func(r rune) bool { return r != '-' })
		if i < 0 {
			b.WriteString(w)
			continue
		}
		b.WriteString(w[:i])
		rest := w[i:]
		b.WriteString(strings.ToUpper(rest[:1]))
		b.WriteString(strings.ToLower(rest[1:]))
	}
	return b.String()
}

// Apply makes the change to t: a swagger document replaces the API of its
// base path, an endpoint is added to (or replaces the same path and method
// of) the API of its base path, created when missing. updated stamps the
// API (epoch ms).
func (c *Change) Apply(t *Table, updated int64) *API {
	if c.Endpoint == nil {
		api := *c.API
		api.Updated = updated
		t.Put(&api)
		return &api
	}
	api := &API{BasePath: c.API.BasePath, Name: c.API.Name, CORS: c.API.CORS}
	if cur := t.Lookup(c.API.BasePath); cur != nil {
		cp := *cur
		cp.Routes = append([]Route(nil), cur.Routes...)
		api = &cp
	}
	api.setRoute(*c.Endpoint)
	api.Updated = updated
	t.Put(api)
	return api
}

// DeleteRequest is a deleteApi query: a base path or API name, and
// optionally one relative path and one operation of it.
type DeleteRequest struct {
	BasePath, RelPath, Operation string
}

// Delete removes what req names from t; the API goes when it has no
// route left. The messages are OpenWhisk's deleteApi's.
func (t *Table) Delete(req DeleteRequest) error {
	if req.BasePath == "" {
		return fail("basepath is required.")
	}
	if req.RelPath == "" && req.Operation != "" {
		return fail("When specifying an operation, the path is required.")
	}
	api := t.Lookup(req.BasePath)
	if api == nil {
		return fail("API deletion failure: API '%s' does not exist.", req.BasePath)
	}
	if req.RelPath == "" {
		t.Remove(api.BasePath)
		return nil
	}
	method := strings.ToUpper(req.Operation)
	kept := make([]Route, 0, len(api.Routes))
	for _, r := range api.Routes {
		if r.Path != req.RelPath || (method != "" && r.Method != method) {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(api.Routes) {
		if method == "" {
			return fail("API deletion failure: path '%s' does not exist in the API", req.RelPath)
		}
		return fail("API deletion failure: path '%s' with operation '%s' does not exist in the API", req.RelPath, strings.ToLower(method))
	}
	if len(kept) == 0 {
		t.Remove(api.BasePath)
		return nil
	}
	cp := *api
	cp.Routes = kept
	t.Put(&cp)
	return nil
}
