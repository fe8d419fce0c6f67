package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wispio/wisp/apigw"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// The API gateway (OpenWhisk's `wsk api`): the management calls wsk and
// the npm client make to the apimgmt web actions, answered here from the
// store, and the APIs served at /api/{namespace id}/{basepath}/{relpath},
// where the namespace id is the uuid of the namespace's key (what
// OpenWhisk's gateway uses, the spaceguid wsk sends).

// apimgmtPath is where wsk and the npm client reach the apimgmt actions.
const apimgmtPath = "/api/v1/web/whisk.system/apimgmt/"

// Messages of the gateway when it serves an API.
const (
	msgVerbNotSupported = "Whoops. Verb not supported."
	msgClientID         = "Unauthorized: a known client id is required in the header "
	msgRateLimited      = "Rate limit exceeded"
)

func (s *Server) apigwRoutes() {
	s.route(apimgmtPath+"{op}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.apimgmt(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// apimgmt answers createApi, getApi and deleteApi (with or without the
// .http extension, any method, as a web action would). A refused
// definition answers 502 with the message, as OpenWhisk's actions do.
func (s *Server) apimgmt(w http.ResponseWriter, r *http.Request) error {
	op, _, _ := strings.Cut(r.PathValue("op"), ".")
	caller, err := s.apimgmtCaller(r, op)
	if err != nil {
		return err
	}
	var ae *apigw.Error
	switch op {
	case "createApi":
		err = s.createAPI(w, r, caller)
	case "getApi":
		err = s.getAPI(w, r, caller)
	case "deleteApi":
		err = s.deleteAPI(w, r, caller)
	default:
		return newError(http.StatusNotFound, msgNotFound)
	}
	if errors.As(err, &ae) {
		// A refused definition is the caller's mistake, answered 502 as
		// OpenWhisk's actions do: not a server failure to log as one.
		s.log.Debug("API definition refused", "namespace", caller.Namespace, "op", op, "code", transactionID(r), "err", err)
		writeJSON(w, http.StatusBadGateway, errorBody{Error: ae.Msg, Code: transactionID(r)})
		return nil
	}
	return err
}

// apimgmtCaller is the caller's identity; the apimgmt actions need one.
func (s *Server) apimgmtCaller(r *http.Request, op string) (identity, error) {
	if _, _, ok := r.BasicAuth(); !ok {
		msg := "Invalid authentication."
		if op == "createApi" {
			msg = "A valid auth key is required."
		}
		return identity{}, newError(http.StatusUnauthorized, msg)
	}
	return s.auth.authenticate(r)
}

func (s *Server) createAPI(w http.ResponseWriter, r *http.Request, caller identity) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.Limits.ParamsSize)))
	if err != nil {
		return err
	}
	change, err := apigw.ParseCreate(body, caller.Namespace, r.URL.Query().Get("responsetype"))
	if err != nil {
		return err
	}
	for _, t := range change.Targets() {
		if err := s.checkWebTarget(r.Context(), caller.Namespace, t); err != nil {
			return err
		}
	}
	var api *apigw.API
	now := time.Now().UnixMilli()
	if _, err := s.apis.Update(r.Context(), caller.Namespace, func(t *apigw.Table) error {
		api = change.Apply(t, now)
		return t.CheckLimits()
	}); err != nil {
		return err
	}
	ret, err := s.retAPI(r, caller.Namespace, api)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ret)
	return nil
}

// checkWebTarget refuses a route to an action the caller cannot run or
// that is not a web action, with the messages wsk gives.
func (s *Server) checkWebTarget(ctx context.Context, caller string, t apigw.Target) error {
	f := entity.FQN{Namespace: t.Namespace, Package: t.Package, Name: t.Name}
	if f.Validate("action") != nil {
		return newError(http.StatusBadRequest, "'"+t.String()+"' is not a valid action name.")
	}
	res, err := s.activator.Resolver().Action(ctx, caller, f)
	var forbidden *routing.ForbiddenError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusNotFound, "Unable to get action '"+t.String()+"': "+msgNotFound)
	case errors.As(err, &forbidden):
		return err
	case err != nil:
		return err
	case !res.Action.Annotations.IsTrue(annWebExport):
		return newError(http.StatusBadRequest, "Action '"+t.String()+"' is not a web action. Issue 'wsk action update \""+t.String()+"\" --web true' to convert the action to a web action.")
	}
	return nil
}

// retAPI is one API as the apimgmt actions answer it (openwhisk-client-go's
// RetApi).
type retAPI struct {
	Namespace string         `json:"namespace"`
	GwAPIURL  string         `json:"gwApiUrl"`
	Activated bool           `json:"gwApiActivated"`
	TenantID  string         `json:"tenantId"`
	APIDoc    *apigw.Swagger `json:"apidoc"`
}

type apiItem struct {
	ID    string  `json:"id"`
	Key   string  `json:"key"`
	Value *retAPI `json:"value"`
}

func (s *Server) retAPI(r *http.Request, ns string, api *apigw.API) (*retAPI, error) {
	subj, err := s.auth.owner(r.Context(), ns)
	if err != nil {
		return nil, err
	}
	host := s.publicURL(r)
	return &retAPI{
		Namespace: ns, GwAPIURL: apigw.GatewayURL(host, subj.UUID, api.BasePath), Activated: true,
		TenantID: subj.UUID, APIDoc: api.Export(host),
	}, nil
}

// getAPI lists the caller's APIs, or the one of ?basepath= (a base path
// or an API name), with ?limit and ?skip.
func (s *Server) getAPI(w http.ResponseWriter, r *http.Request, caller identity) error {
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	skip, err := queryInt(r, "skip", 0)
	if err != nil {
		return err
	}
	t, err := s.apis.Table(r.Context(), caller.Namespace)
	if err != nil {
		return err
	}
	apis := t.Sorted()
	if bp := r.URL.Query().Get("basepath"); bp != "" {
		apis = nil
		if a := t.Lookup(bp); a != nil {
			apis = []*apigw.API{a}
		}
	}
	apis = apis[min(skip, len(apis)):]
	if limit > 0 && limit < len(apis) {
		apis = apis[:limit]
	}
	items := make([]apiItem, 0, len(apis))
	for _, a := range apis {
		ret, err := s.retAPI(r, caller.Namespace, a)
		if err != nil {
			return err
		}
		items = append(items, apiItem{ID: "API:" + caller.Namespace + ":" + a.BasePath, Key: caller.Namespace, Value: ret})
	}
	writeJSON(w, http.StatusOK, map[string]any{"apis": items})
	return nil
}

// deleteAPI removes an API, one path of it or one operation of a path.
func (s *Server) deleteAPI(w http.ResponseWriter, r *http.Request, caller identity) error {
	q := r.URL.Query()
	req := apigw.DeleteRequest{BasePath: q.Get("basepath"), RelPath: q.Get("relpath"), Operation: q.Get("operation")}
	if _, err := s.apis.Update(r.Context(), caller.Namespace, func(t *apigw.Table) error { return t.Delete(req) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// publicURL is the base URL clients reach Wisp at: the configured one, or
// the request's scheme and host.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// gatewayPath splits /api/{namespace id}/{path} when the id is not the
// REST API's version ("v1").
func gatewayPath(escaped string) (id, rest string, ok bool) {
	tail, ok := strings.CutPrefix(escaped, "/api/")
	if !ok {
		return "", "", false
	}
	id, rest, _ = strings.Cut(tail, "/")
	if id == "" || id == "v1" {
		return "", "", false
	}
	return id, "/" + rest, true
}

// serveGateway serves a request to an API: the namespace by its id, the
// route by path and method, the API's client id and rate limit, then the
// web action as /api/v1/web would run it, with the path parameters.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request, id, rest string) {
	if err := s.gateway(w, r, id, rest); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) gateway(w http.ResponseWriter, r *http.Request, id, rest string) error {
	subj, err := s.auth.subjectByUUID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return newError(http.StatusNotFound, msgNotFound)
	}
	if err != nil {
		return err
	}
	t, err := s.apis.Table(r.Context(), subj.Namespace)
	if err != nil {
		return err
	}
	m, outcome := t.Find(r.Method, rest)
	switch {
	case outcome == apigw.NoMethod && r.Method == http.MethodOptions && m.API.CORS.Enabled:
		setAPICORS(w.Header(), r, &m.API.CORS) // a preflight the API answers itself
		w.WriteHeader(http.StatusOK)
		return nil
	case outcome == apigw.NoMethod:
		return newError(http.StatusNotFound, msgVerbNotSupported)
	case outcome != apigw.Found:
		return newError(http.StatusNotFound, msgNotFound)
	}
	if sec := m.API.Security; sec != nil && !knownClientID(sec, r.Header.Get(sec.Header)) {
		return newError(http.StatusUnauthorized, msgClientID+sec.Header)
	}
	if lim := m.API.RateLimit; lim != nil && !s.limiter.Allow(subj.Namespace+"\x00"+m.API.BasePath, *lim) {
		return newError(http.StatusTooManyRequests, msgRateLimited)
	}
	route := m.Route
	target := webTarget{
		action: entity.FQN{Namespace: route.Action.Namespace, Package: route.Action.Package, Name: route.Action.Name},
		ext:    extension(route.ResponseType),
	}
	if target.ext == extHTTP {
		target.path = r.URL.Path[len("/api/"+id):] // the gateway appends $(request.path)
	}
	opts := webOptions{cors: &m.API.CORS}
	for _, p := range m.Params {
		if reservedParams[p.Name] {
			return newError(http.StatusBadRequest, msgParamsNotAllowed)
		}
		opts.pathParams = append(opts.pathParams, entity.KeyValue{Key: p.Name, Value: jsonString(p.Value)})
	}
	if len(route.SecureKey) > 0 {
		var secret string
		if err := json.Unmarshal(route.SecureKey, &secret); err == nil {
			r.Header.Set(headerRequireAuth, secret)
		} else {
			r.Header.Set(headerRequireAuth, strings.TrimSpace(string(route.SecureKey)))
		}
	}
	return s.serveWeb(w, r, target, opts)
}

func knownClientID(sec *apigw.Security, got string) bool {
	ok := false
	for _, id := range sec.ClientIDs {
		if got != "" && constantTimeEqual(got, id) {
			ok = true
		}
	}
	return ok
}

// setAPICORS sets an API's CORS headers: OpenWhisk's web action defaults
// unless the API overrides the origin, methods or headers.
func setAPICORS(h http.Header, r *http.Request, c *apigw.CORS) {
	setCORS(h, r)
	if c.Origin != "" {
		h.Set("Access-Control-Allow-Origin", c.Origin)
	}
	if c.Methods != "" {
		h.Set("Access-Control-Allow-Methods", c.Methods)
	}
	if c.Headers != "" {
		h.Set("Access-Control-Allow-Headers", c.Headers)
	}
}
