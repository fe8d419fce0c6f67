package apigw

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// swaggerDoc is the part of a Swagger 2 document Wisp reads.
type swaggerDoc struct {
	Swagger *string `json:"swagger"`
	Info    *struct {
		Title string `json:"title"`
	} `json:"info"`
	BasePath *string                               `json:"basePath"`
	Paths    map[string]map[string]json.RawMessage `json:"paths"`

	SecurityDefinitions map[string]securityScheme `json:"securityDefinitions"`
	Security            []map[string][]string     `json:"security"`
	IBMConfig           *gatewayConfig            `json:"x-ibm-configuration"`
	GatewayConfig       *gatewayConfig            `json:"x-gateway-configuration"`
	IBMRateLimit        []RateLimit               `json:"x-ibm-rate-limit"`
	GatewayRateLimit    []RateLimit               `json:"x-gateway-rate-limit"`
}

type securityScheme struct {
	Type string `json:"type"`
	Name string `json:"name"`
	In   string `json:"in"`
	// ClientIDs are the client ids the API accepts (a Wisp extension: the
	// gateway's subscriptions).
	ClientIDs []string `json:"x-client-ids,omitempty"`
}

type gatewayConfig struct {
	Assembly struct {
		Execute []struct {
			OperationSwitch *struct {
				Case []struct {
					Operations []string `json:"operations"`
					Execute    []struct {
						Invoke *struct {
							TargetURL string `json:"target-url"`
						} `json:"invoke"`
					} `json:"execute"`
				} `json:"case"`
			} `json:"operation-switch"`
			Invoke *struct {
				TargetURL string `json:"target-url"`
			} `json:"invoke"`
		} `json:"execute"`
	} `json:"assembly"`
	CORS *struct {
		Enabled *bool  `json:"enabled"`
		Origin  string `json:"origin"`
		Methods string `json:"methods"`
		Headers string `json:"headers"`
	} `json:"cors"`
}

// targetURL returns the target-url the configuration gives operationID.
func (g *gatewayConfig) targetURL(operationID string) string {
	if g == nil {
		return ""
	}
	for _, ex := range g.Assembly.Execute {
		if ex.OperationSwitch != nil {
			for _, c := range ex.OperationSwitch.Case {
				if slices.Contains(c.Operations, operationID) && len(c.Execute) > 0 && c.Execute[0].Invoke != nil {
					return c.Execute[0].Invoke.TargetURL
				}
			}
		}
		if ex.Invoke != nil {
			return ex.Invoke.TargetURL
		}
	}
	return ""
}

type operation struct {
	OperationID string          `json:"operationId"`
	Parameters  json.RawMessage `json:"parameters"`
	XOpenWhisk  *struct {
		Namespace string `json:"namespace"`
		Package   string `json:"package"`
		Action    string `json:"action"`
		URL       string `json:"url"`
	} `json:"x-openwhisk"`
	Managed json.RawMessage `json:"x-wisp-managed"`
}

// webActionURL matches OpenWhisk's web action URLs
// (…/api/v1/web/NS/PKG/ACTION.EXT), as the apimgmt actions parse them.
var webActionURL = regexp.MustCompile(`/api/v\d/web/([^/]+)/([^/]+)/([^/.]+(?:\.[^/.]+)*?)\.(\w+)(?:\$\(request\.path\))?$`)

// ImportSwagger reads a Swagger 2 document as an API of caller's
// namespace ("_" in x-openwhisk means it). Every operation must name a
// web action, in x-openwhisk or as a target-url of the gateway
// configuration; the messages are those OpenWhisk's CLI and createApi give.
func ImportSwagger(raw json.RawMessage, caller string) (*API, error) {
	var doc swaggerDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fail("swagger field cannot be parsed. Ensure it is valid JSON.")
	}
	switch {
	case doc.BasePath == nil || *doc.BasePath == "":
		return nil, fail("swagger is missing the basePath field.")
	case doc.Paths == nil:
		return nil, fail("swagger is missing the paths field.")
	case doc.Info == nil:
		return nil, fail("swagger is missing the info field.")
	case doc.Swagger == nil:
		return nil, fail("Swagger file is invalid (missing basePath, info, paths, or swagger fields)")
	case *doc.Swagger != "2.0":
		return nil, creationFailure("swagger version '%s' is not supported; the document must be Swagger 2.0", *doc.Swagger)
	case !strings.HasPrefix(*doc.BasePath, "/"):
		return nil, fail("Swagger file basePath must start with a leading slash (/)")
	}
	if err := checkBasePath(*doc.BasePath); err != nil {
		return nil, err
	}
	cfg := doc.IBMConfig
	if cfg == nil {
		cfg = doc.GatewayConfig
	}
	api := &API{BasePath: *doc.BasePath, Name: doc.Info.Title, CORS: CORS{Enabled: true}}
	if api.Name == "" {
		api.Name = api.BasePath
	}
	if cfg != nil && cfg.CORS != nil {
		c := cfg.CORS
		api.CORS = CORS{Enabled: c.Enabled == nil || *c.Enabled, Origin: c.Origin, Methods: c.Methods, Headers: c.Headers}
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return nil, fail("'%s' must begin with '/'.", p)
		}
		ops := doc.Paths[p]
		pathLevel := ops["parameters"]
		for _, m := range Methods {
			rawOp, ok := ops[strings.ToLower(m)]
			if !ok {
				continue
			}
			r, err := importOperation(p, m, rawOp, cfg, caller)
			if err != nil {
				return nil, err
			}
			if err := checkRoute(&r, pathLevel); err != nil {
				return nil, err
			}
			api.Routes = append(api.Routes, r)
		}
	}
	sec, err := importSecurity(&doc)
	if err != nil {
		return nil, err
	}
	api.Security = sec
	limits := doc.IBMRateLimit
	if len(limits) == 0 {
		limits = doc.GatewayRateLimit
	}
	if len(limits) > 0 {
		l := limits[0]
		if _, ok := unitDurations[l.Unit]; !ok || l.Rate <= 0 || l.Units < 0 {
			return nil, creationFailure("x-ibm-rate-limit: rate must be above 0 and unit one of second, minute, hour, day (got rate %d, unit '%s')", l.Rate, l.Unit)
		}
		api.RateLimit = &l
	}
	return api, nil
}

func importOperation(path, method string, raw json.RawMessage, cfg *gatewayConfig, caller string) (Route, error) {
	var op operation
	if err := json.Unmarshal(raw, &op); err != nil {
		return Route{}, creationFailure("operation '%s' of path '%s' is not a swagger operation object", strings.ToLower(method), path)
	}
	if op.OperationID == "" {
		op.OperationID = OperationID(method, path)
	}
	url := ""
	var target Target
	if x := op.XOpenWhisk; x != nil && x.Action != "" {
		ns := x.Namespace
		if ns == "" || ns == "_" {
			ns = caller
		}
		target = Target{Namespace: ns, Package: x.Package, Name: x.Action}
		url = x.URL
	} else {
		url = cfg.targetURL(op.OperationID)
		m := webActionURL.FindStringSubmatch(url)
		if m == nil {
			return Route{}, creationFailure("operation '%s' of path '%s' names no web action: it needs x-openwhisk or a target-url of the form https://HOST/api/v1/web/NAMESPACE/PACKAGE/ACTION.EXT", strings.ToLower(method), path)
		}
		target = Target{Namespace: m[1], Package: m[2], Name: m[3]}
		if target.Package == "default" {
			target.Package = ""
		}
		if target.Namespace == "_" {
			target.Namespace = caller
		}
	}
	respType := "json"
	if i := strings.LastIndex(strings.TrimSuffix(url, "$(request.path)"), "."); i >= 0 && url != "" {
		ext := strings.TrimSuffix(url, "$(request.path)")[i+1:]
		if slices.Contains(ResponseTypes, ext) {
			respType = ext
		}
	}
	params := op.Parameters
	if string(params) == "null" {
		params = nil
	}
	return Route{Path: path, Method: method, OperationID: op.OperationID, Action: target, ResponseType: respType, Parameters: params, Managed: nullToNil(op.Managed)}, nil
}

// importSecurity reads the apiKey scheme that security requires.
func importSecurity(doc *swaggerDoc) (*Security, error) {
	for _, req := range doc.Security {
		names := make([]string, 0, len(req))
		for n := range req {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s, ok := doc.SecurityDefinitions[n]
			if !ok {
				return nil, creationFailure("security requires '%s', which securityDefinitions does not define", n)
			}
			if s.Type != "apiKey" || s.In != "header" {
				return nil, creationFailure("security scheme '%s' is not supported: only type apiKey in header is", n)
			}
			header := s.Name
			if header == "" {
				header = DefaultClientIDHeader
			}
			return &Security{Scheme: n, Header: header, ClientIDs: s.ClientIDs}, nil
		}
	}
	return nil, nil
}
