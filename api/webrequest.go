package api

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/wispio/wisp/entity"
)

// The parameters a web action receives about its request; a request may
// not set them itself.
const (
	owMethod  = "__ow_method"
	owHeaders = "__ow_headers"
	owPath    = "__ow_path"
	owUser    = "__ow_user"
	owQuery   = "__ow_query"
	owBody    = "__ow_body"
)

var reservedParams = map[string]bool{owMethod: true, owHeaders: true, owPath: true, owUser: true, owQuery: true, owBody: true}

// extension is a web action's response type, named by the suffix of the
// action name in the path.
type extension string

const (
	extHTTP extension = "http"
	extJSON extension = "json"
	extHTML extension = "html"
	extText extension = "text"
	extSVG  extension = "svg"
)

// splitExtension splits "name.ext" when ext is one of the five; any other
// name is itself, with the default extension .http.
func splitExtension(seg string) (string, extension) {
	for _, e := range []extension{extHTTP, extJSON, extHTML, extSVG, extText} {
		if base, ok := strings.CutSuffix(seg, "."+string(e)); ok {
			return base, e
		}
	}
	return seg, extHTTP
}

// webArgs are a request as a web action's arguments: the __ow_ context,
// then the query, then the body (later wins).
type webArgs struct {
	context entity.Params
	query   entity.Params
	body    entity.Params
	// pathParams are an API route's path parameters ("/books/{id}").
	pathParams entity.Params
	// opaque is __ow_body (and __ow_query for raw-http), set by the server.
	opaque entity.Params
}

// params is the payload of the activation.
func (a *webArgs) params() entity.Params {
	return a.context.Merge(a.query, a.body, a.pathParams, a.opaque)
}

// overrides reports whether the query, the body or a path parameter sets
// a reserved or an immutable parameter.
func (a *webArgs) overrides(immutable map[string]bool) bool {
	for _, l := range []entity.Params{a.query, a.body, a.pathParams} {
		for _, p := range l {
			if reservedParams[p.Key] || immutable[p.Key] {
				return true
			}
		}
	}
	return false
}

// readBody reads the request body, at most limit bytes (413 beyond).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// webArguments builds the action's arguments from the request. A raw-http
// action gets the query string as __ow_query and the body as __ow_body (a
// string, base64 for binary and JSON content). Otherwise the query
// parameters, and a JSON object or form body, become parameters; any other
// body is __ow_body (a JSON value as such, text as a string, binary content
// base64).
func webArguments(r *http.Request, body []byte, raw bool, path string, caller *identity) (*webArgs, error) {
	args := &webArgs{context: entity.Params{
		{Key: owMethod, Value: jsonString(strings.ToLower(r.Method))},
		{Key: owHeaders, Value: requestHeaders(r, caller != nil)},
		{Key: owPath, Value: jsonString(path)},
	}}
	if caller != nil {
		args.context = append(args.context, entity.KeyValue{Key: owUser, Value: jsonString(caller.Namespace)})
	}
	mediaType := ""
	if len(body) > 0 {
		mediaType = "application/octet-stream" // what a body without a type is
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || !strings.Contains(mt, "/") {
				return nil, newError(http.StatusBadRequest, msgUnsupportedContent+" The Content-Type header "+strconv.Quote(ct)+" is not a media type.")
			}
			mediaType = mt
		}
	}
	if raw {
		args.opaque = entity.Params{
			{Key: owQuery, Value: jsonString(r.URL.RawQuery)},
			{Key: owBody, Value: opaqueBody(mediaType, body)},
		}
		return args, nil
	}
	q := r.URL.Query()
	for _, k := range sortedKeys(q) {
		args.query = append(args.query, entity.KeyValue{Key: k, Value: jsonString(q.Get(k))})
	}
	switch {
	case len(body) == 0:
	case isJSONFamily(mediaType):
		trimmed := bytes.TrimSpace(body)
		if err := checkDepth(trimmed); err != nil {
			return nil, err
		}
		if !json.Valid(trimmed) {
			return nil, entity.Invalid("body", "The request content was malformed: the body is not valid JSON (Content-Type %s)", mediaType)
		}
		if trimmed[0] == '{' {
			p, err := entity.ParamsFromObject("body", trimmed)
			if err != nil {
				return nil, err
			}
			args.body = p
		} else {
			args.opaque = entity.Params{{Key: owBody, Value: json.RawMessage(trimmed)}}
		}
	case mediaType == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, entity.Invalid("body", "The request content was malformed: the form data does not parse: %v", err)
		}
		for _, k := range sortedKeys(form) {
			args.body = append(args.body, entity.KeyValue{Key: k, Value: jsonString(form.Get(k))})
		}
	default:
		args.opaque = entity.Params{{Key: owBody, Value: opaqueBody(mediaType, body)}}
	}
	return args, nil
}

// opaqueBody is a body as the string __ow_body holds: base64 for binary
// content and (as OpenWhisk does) for application/json, else the text.
func opaqueBody(mediaType string, body []byte) json.RawMessage {
	if len(body) == 0 {
		return jsonString("")
	}
	if isBinary(mediaType) || mediaType == "application/json" {
		return jsonString(base64.StdEncoding.EncodeToString(body))
	}
	return jsonString(string(body))
}

// requestHeaders are the request's headers with lower-case names, several
// values of one name joined by ", ", plus host. Authorization is left out
// when it carried a valid Wisp key (verified), which must not reach
// another namespace's code; any other Authorization passes, for actions
// that authenticate their callers themselves.
func requestHeaders(r *http.Request, verified bool) json.RawMessage {
	h := make(map[string]string, len(r.Header)+1)
	for k, vs := range r.Header {
		if verified && k == "Authorization" {
			continue
		}
		h[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	if r.Host != "" {
		h["host"] = r.Host
	}
	b, _ := json.Marshal(h) // a map of strings always marshals
	return b
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

func isJSONNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// isJSONFamily is application/json or any +json type.
func isJSONFamily(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// nonBinaryApplication are the application/* types whose content is text,
// as Akka HTTP (OpenWhisk's HTTP library) classifies them.
var nonBinaryApplication = map[string]bool{
	"application/json": true, "application/javascript": true, "application/ecmascript": true,
	"application/xml": true, "application/xhtml+xml": true, "application/x-www-form-urlencoded": true,
	"application/rss+xml": true, "application/atom+xml": true, "application/soap+xml": true,
	"application/graphql": true, "application/x-javascript": true,
}

// isBinary reports whether content of mediaType is binary: everything but
// text/*, the JSON and XML families and the text application types.
func isBinary(mediaType string) bool {
	switch {
	case strings.HasPrefix(mediaType, "text/"), isJSONFamily(mediaType), nonBinaryApplication[mediaType]:
		return false
	case strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+xml"):
		return false
	}
	return true
}
