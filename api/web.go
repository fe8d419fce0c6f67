package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/wispio/wisp/apigw"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// Web actions (OpenWhisk's docs/webactions.md): an action annotated
// web-export: true answers anonymous HTTP requests on
// /api/v1/web/{namespace}/{package|default}/{action}.{ext}[/projection],
// runs on behalf of its owner and turns its result into the HTTP response
// the extension asks for.

// Annotations that make and shape a web action.
const (
	annWebExport     = "web-export"
	annRawHTTP       = "raw-http"
	annFinal         = "final"
	annRequireAuth   = "require-whisk-auth"
	annCustomOptions = "web-custom-options"
)

// headerRequireAuth carries the secret of a require-whisk-auth action.
const headerRequireAuth = "X-Require-Whisk-Auth"

// OpenWhisk's messages about web actions.
const (
	msgParamsNotAllowed    = "Request defines parameters that are not allowed (e.g., reserved properties)."
	msgPropertyNotFound    = "Response does not include requested property."
	msgErrorProcessing     = "There was an error processing your request."
	msgResponseNotReady    = "Response not yet ready."
	msgUnknownContentType  = "Response did not specify a known content-type."
	msgContentTypeMismatch = "Response type in header did not match generated content type."
	msgWebUnauthorized     = "Authentication is possible but has failed or not yet been provided."
	msgUnsupportedContent  = "Content type is not supported."
)

// webMethods are the methods a web action answers.
var webMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodDelete: true,
	http.MethodPatch: true, http.MethodHead: true, http.MethodOptions: true,
}

// CORS headers OpenWhisk adds to web action responses unless the action is
// annotated web-custom-options: true.
const (
	corsAllowMethods = "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"
	corsAllowHeaders = "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"
)

func (s *Server) webRoutes() {
	s.route("/api/v1/web/{ns}/{pkg}/{action...}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.webAction(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// webTarget is what a web action path names.
type webTarget struct {
	action entity.FQN
	ext    extension
	// path is the rest of the path after the extension ("" or "/a/b"): the
	// action's __ow_path, and the projection of .json, .html, .text, .svg.
	path string
}

// parseWebPath reads {ns}/{pkg}/{action...}; a name that cannot exist is
// "not found", as OpenWhisk's routes answer.
func parseWebPath(r *http.Request) (webTarget, error) {
	seg, rest, _ := strings.Cut(r.PathValue("action"), "/")
	if rest != "" || strings.HasSuffix(r.PathValue("action"), "/") {
		rest = "/" + rest
	}
	name, ext := splitExtension(seg)
	t := webTarget{action: entity.FQN{Namespace: r.PathValue("ns"), Name: name}, ext: ext, path: rest}
	if pkg := r.PathValue("pkg"); pkg != entity.ReservedPackageName {
		t.action.Package = pkg
	}
	if t.action.Validate("action") != nil {
		return webTarget{}, newError(http.StatusNotFound, msgNotFound)
	}
	return t, nil
}

// webAction serves one web action request.
func (s *Server) webAction(w http.ResponseWriter, r *http.Request) error {
	if !webMethods[r.Method] {
		w.Header().Set("Allow", "GET, DELETE, POST, PUT, HEAD, OPTIONS, PATCH")
		return newError(http.StatusMethodNotAllowed, "HTTP method not allowed, supported methods: GET, DELETE, POST, PUT, HEAD, OPTIONS, PATCH")
	}
	target, err := parseWebPath(r)
	if err != nil {
		return err
	}
	return s.serveWeb(w, r, target, webOptions{})
}

// webOptions are what an API route adds to a web action request.
type webOptions struct {
	// pathParams are the route's path parameters, passed as parameters.
	pathParams entity.Params
	// cors, when set, is the API's policy, which replaces the web action's
	// CORS defaults (the API answers preflight requests itself).
	cors *apigw.CORS
}

// serveWeb runs the web action target names for r and writes its answer.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request, target webTarget, opts webOptions) error {
	accepted := time.Now()
	limit := int64(s.cfg.Limits.ParamsSize)
	if r.ContentLength > limit {
		return newError(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request larger than allowed: %d > %d bytes.", r.ContentLength, limit))
	}
	// Credentials are optional: valid ones make the caller known
	// (__ow_user, require-whisk-auth: true), invalid ones are ignored.
	var caller *identity
	if _, _, ok := r.BasicAuth(); ok {
		if id, err := s.auth.authenticate(r); err == nil {
			caller = &id
		}
	}
	res, err := s.webExported(r, target.action)
	if err != nil {
		return err
	}
	ann := res.Action.Annotations
	switch {
	case opts.cors != nil:
		if opts.cors.Enabled {
			setAPICORS(w.Header(), r, opts.cors)
		}
	case !ann.IsTrue(annCustomOptions):
		setCORS(w.Header(), r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return nil
		}
	}
	// OPTIONS reaches an action with custom options even unauthenticated,
	// so that it can answer a preflight.
	if r.Method != http.MethodOptions && !webAuthorized(ann, r, target.action.Namespace, caller) {
		return newError(http.StatusUnauthorized, msgWebUnauthorized)
	}
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	raw := ann.IsTrue(annRawHTTP)
	args, err := webArguments(r, body, raw, target.path, caller)
	if err != nil {
		return err
	}
	args.pathParams = opts.pathParams
	if !raw && args.overrides(immutableParams(res)) {
		return newError(http.StatusBadRequest, msgParamsNotAllowed)
	}
	req := routing.Request{
		Action: target.action, Subject: target.action.Namespace, Payload: args.params(),
		TransactionID: transactionID(r), ActivationID: entity.NewActivationID(), Accepted: accepted,
		Wait: s.cfg.BlockingWait,
	}
	if caller != nil && caller.Namespace == target.action.Namespace {
		req.KeyExpires = caller.keyExpires() // bounds provide-api-key actions' keys
	}
	w.Header().Set("X-OpenWhisk-Activation-Id", req.ActivationID)
	_, act, err := s.activator.ActivateResolved(r.Context(), req, res)
	switch {
	case errors.Is(err, routing.ErrStillRunning):
		return newError(http.StatusAccepted, msgResponseNotReady)
	case err != nil:
		return err
	}
	return writeWebResult(w, act, target)
}

// webExported resolves the action on behalf of its owner and checks that it
// is web-exported. Whatever fails (no such namespace, package or action, an
// action not exported, one the owner may not run) is "not found", so that
// nothing leaks.
func (s *Server) webExported(r *http.Request, f entity.FQN) (*routing.Resolved, error) {
	notFound := newError(http.StatusNotFound, msgNotFound)
	if _, err := s.auth.owner(r.Context(), f.Namespace); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound
		}
		return nil, err
	}
	res, err := s.activator.Resolver().Action(r.Context(), f.Namespace, f)
	var forbidden *routing.ForbiddenError
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.As(err, &forbidden):
		return nil, notFound
	case err != nil:
		return nil, err
	case !res.Action.Annotations.IsTrue(annWebExport):
		return nil, notFound
	}
	return res, nil
}

// webAuthorized applies require-whisk-auth: a string or number must equal
// the X-Require-Whisk-Auth header; true requires the Basic credentials of
// the action's owner (docs/webactions.md, "Securing web actions"); false or
// absent lets everyone in; any other value nobody.
func webAuthorized(ann entity.Params, r *http.Request, owner string, caller *identity) bool {
	raw, ok := ann.Get(annRequireAuth)
	if !ok {
		return true
	}
	v := strings.TrimSpace(string(raw))
	switch {
	case v == "false":
		return true
	case v == "true":
		return caller != nil && caller.Namespace == owner
	case strings.HasPrefix(v, `"`):
		secret, ok := ann.GetString(annRequireAuth)
		return ok && constantTimeEqual(r.Header.Get(headerRequireAuth), secret)
	case isJSONNumber(v):
		return constantTimeEqual(r.Header.Get(headerRequireAuth), v)
	}
	return false
}

// setCORS adds OpenWhisk's default CORS headers; the request's
// Access-Control-Request-Headers, when present, is echoed as the allowed
// headers.
func setCORS(h http.Header, r *http.Request) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	}
}

// immutableParams are the parameters a request may not set: with the
// annotation final: true, every parameter the action (with its package)
// defines with a value other than null.
func immutableParams(res *routing.Resolved) map[string]bool {
	if !res.Action.Annotations.IsTrue(annFinal) {
		return nil
	}
	out := make(map[string]bool, len(res.Params))
	for _, p := range res.Params {
		if strings.TrimSpace(string(p.Value)) != "null" {
			out[p.Key] = true
		}
	}
	return out
}
