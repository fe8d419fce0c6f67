package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/wispio/wisp/apigw"
	"github.com/wispio/wisp/client"
)

// Route is one operation of the manifest's apis section (wskdeploy's
// apis → API name → base path → relative path → action: {method,
// response}). It becomes an API gateway route to a web action; the route
// records the project (x-wisp-managed) so that deploy and undeploy touch
// only the project's routes.
type Route struct {
	origin
	API      string // the API's name (wsk api create -n)
	BasePath string // with its leading "/"
	RelPath  string // with its leading "/"
	Method   string // upper case
	Response string // web action extension: json, http, ...
	Action   string // as written
	pkg      *Package
}

// routeCollection is how plans name API routes.
const routeCollection = "routes"

// routeSpec is where a route lives in the gateway.
type routeSpec struct {
	basePath, relPath, method string
}

// id identifies the route among the namespace's: unlike the name shown,
// it tells base path from relative path.
func (s routeSpec) id() string { return s.basePath + " " + s.relPath + " " + s.method }

// display is the route as the plan prints it: "GET /hello/world".
func (s routeSpec) display() string {
	base := s.basePath
	if base == "/" {
		base = ""
	}
	return s.method + " " + base + s.relPath
}

// apis parses an apis section; pkg is the package it is in (nil at the
// project level: actions are then the default package's).
func (ps *parser) apis(pkg *Package, e entry) {
	for _, api := range ps.mapping(e.value, e.path) {
		for _, bp := range ps.mapping(api.value, api.path) {
			base := slashed(bp.key)
			if len(apigw.PathParams(base)) > 0 {
				ps.errorf(bp.keyAt, bp.path, "a base path cannot have path parameters; only the relative path can")
			}
			for _, rp := range ps.mapping(bp.value, bp.path) {
				for _, act := range ps.mapping(rp.value, rp.path) {
					ps.route(pkg, act, &Route{
						origin: origin{act.path, act.keyAt.Line}, API: api.key, BasePath: base,
						RelPath: slashed(rp.key), Action: act.key, pkg: pkg,
					})
				}
			}
		}
	}
}

func (ps *parser) route(pkg *Package, e entry, r *Route) {
	ps.fields(e.value, e.path, map[string]func(entry){
		"method": func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			r.Method = strings.ToUpper(s)
			if !slices.Contains(apigw.Methods, r.Method) {
				ps.errorf(e.value, e.path, "%q is not an HTTP method the gateway routes; expected one of %s", s, strings.Join(apigw.Methods, ", "))
			}
		},
		"response": func(e entry) {
			s, ok := ps.str(e)
			if !ok {
				return
			}
			r.Response = s
			if !slices.Contains(apigw.ResponseTypes, s) {
				ps.errorf(e.value, e.path, "%q is not a response type; expected one of %s", s, strings.Join(apigw.ResponseTypes, ", "))
			}
		},
	})
	if r.Method == "" {
		ps.errorf(e.keyAt, join(e.path, "method"), "required: the HTTP method of the route")
		return
	}
	if r.Response == "" {
		r.Response = "json"
	}
	if len(apigw.PathParams(r.RelPath)) > 0 && r.Response != "http" {
		ps.errorf(e.keyAt, join(e.path, "response"), "a relative path with parameters needs response: http (the action gets them as __ow_path)")
	}
	for _, other := range ps.project.Routes {
		if other.BasePath == r.BasePath && other.RelPath == r.RelPath && other.Method == r.Method {
			ps.errorf(e.keyAt, e.path, "%s %s%s is already routed at %s (line %d)", r.Method, r.BasePath, r.RelPath, other.Path, other.Line)
			return
		}
	}
	ps.project.Routes = append(ps.project.Routes, r)
}

func slashed(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "/" + p
	}
	return p
}

// routeEntity is the desired gateway route: the createApi endpoint it
// sends, and the parts that tell what an update changes.
func (r *resolver) routeEntity(rt *Route) *desired {
	pkg := rt.pkg
	if pkg == nil {
		pkg = &Package{Name: DefaultPackage}
	}
	fqn, local, _ := r.action(pkg, rt.Action, rt.origin)
	if local != "" && !r.webExported(local) {
		r.errs = append(r.errs, &Error{Path: rt.Path, Line: rt.Line, Msg: fmt.Sprintf(
			"%s is not a web action: give it web-export: true (routes call web actions only)", local)})
	}
	spec := &routeSpec{basePath: rt.BasePath, relPath: rt.RelPath, method: rt.Method}
	d := &desired{origin: rt.origin, stage: stageRoute, name: spec.display(), route: spec}
	d.body = &routeBody{api: rt.API, action: fqn, response: rt.Response}
	d.parts = map[string]any{"action": fqn, "response": rt.Response}
	return d
}

// webExported tells whether the manifest's action or sequence local
// ([pkg/]name) has the web-export annotation.
func (r *resolver) webExported(local string) bool {
	for _, pkg := range r.project.Packages {
		for _, a := range pkg.Actions {
			if pkg.qualify(a.Name) == local {
				return webAnnotated(a.Annotations)
			}
		}
		for _, sq := range pkg.Sequences {
			if pkg.qualify(sq.Name) == local {
				return webAnnotated(sq.Annotations)
			}
		}
	}
	return false
}

func webAnnotated(anns Params) bool {
	i := anns.index("web-export")
	return i >= 0 && anns[i].Value == true
}

// routeBody is what createApi needs beyond the routeSpec.
type routeBody struct {
	api, action, response string
	managed               Managed
}

// putRoute creates or replaces a route with a createApi endpoint, as
// wsk api create sends it, carrying the managed value as x-wisp-managed.
func (d *Deployer) putRoute(ctx context.Context, ns string, ch Change) error {
	b := ch.want.body.(*routeBody)
	qn, err := client.ParseName(b.action, ns)
	if err != nil {
		return err
	}
	var params []map[string]any
	for _, p := range apigw.PathParams(ch.want.route.relPath) {
		params = append(params, map[string]any{"name": p, "in": "path", "required": true, "type": "string"})
	}
	name := qn.Name
	if qn.Package != "" {
		name = qn.Package + "/" + qn.Name
	}
	pkg := qn.Package
	if pkg == "" {
		pkg = DefaultPackage
	}
	doc := map[string]any{
		"namespace": ns, "apiName": b.api, "id": "API:" + ns + ":" + ch.want.route.basePath,
		"gatewayBasePath": ch.want.route.basePath, "gatewayPath": ch.want.route.relPath,
		"gatewayMethod": ch.want.route.method, "x-wisp-managed": b.managed,
		"action": map[string]any{
			"name": name, "namespace": qn.Namespace, "backendMethod": ch.want.route.method, "authkey": d.authKey,
			"backendUrl": "/api/v1/web/" + qn.Namespace + "/" + pkg + "/" + qn.Name + "." + b.response,
		},
	}
	if params != nil {
		doc["pathParameters"] = params
	}
	_, _, err = d.c.CreateAPI(ctx, doc, b.response)
	return err
}

// removeRoute deletes one operation of an API; the API goes with its
// last route. A route already gone is not an error.
func (d *Deployer) removeRoute(ctx context.Context, s *routeSpec) error {
	_, err := d.c.DeleteAPI(ctx, s.basePath, s.relPath, s.method)
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadGateway && strings.Contains(apiErr.Message, "does not exist") {
		return nil
	}
	return err
}

// routeInventory lists the namespace's API routes, with the project
// that owns each (none for a route made by hand).
func (d *Deployer) routeInventory(ctx context.Context, out map[string]*existing) error {
	const page = 100
	for skip := 0; ; skip += page {
		apis, _, err := d.c.GetAPIs(ctx, "", page, skip)
		if err != nil {
			return fmt.Errorf("list APIs: %w", err)
		}
		for _, a := range apis {
			if err := addRoutes(a.Swagger, out); err != nil {
				return fmt.Errorf("list APIs: %w", err)
			}
		}
		if len(apis) < page {
			return nil
		}
	}
}

func addRoutes(swagger json.RawMessage, out map[string]*existing) error {
	var doc struct {
		BasePath string                                `json:"basePath"`
		Paths    map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(swagger, &doc); err != nil {
		return err
	}
	for path, ops := range doc.Paths {
		for verb, raw := range ops {
			var op struct {
				Managed *Managed `json:"x-wisp-managed"`
			}
			if verb == "parameters" || json.Unmarshal(raw, &op) != nil {
				continue
			}
			spec := &routeSpec{basePath: doc.BasePath, relPath: path, method: strings.ToUpper(verb)}
			e := &existing{collection: routeCollection, name: spec.display(), route: spec}
			if op.Managed != nil && op.Managed.Project != "" {
				e.managed = op.Managed
			}
			out[key(routeCollection, spec.id())] = e
		}
	}
	return nil
}
