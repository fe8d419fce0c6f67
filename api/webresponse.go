package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/wispio/wisp/entity"
)

// writeWebResult answers a web action request with its activation: a
// success's result, projected along the path for .json, .html, .text and
// .svg; an application error's "error" value (the path ignored); for any
// other failure 400.
func writeWebResult(w http.ResponseWriter, act *entity.Activation, t webTarget) error {
	var result json.RawMessage
	switch act.Response.StatusCode {
	case entity.StatusSuccess:
		result = resultOf(act)
		if t.ext != extHTTP && t.path != "" && t.path != "/" {
			v, ok := project(result, t.path)
			if !ok {
				return newError(http.StatusNotFound, msgPropertyNotFound)
			}
			return transcode(w, t.ext, v)
		}
	case entity.StatusApplicationError:
		v, ok := project(resultOf(act), "/error")
		if !ok {
			return newError(http.StatusNotFound, msgPropertyNotFound)
		}
		result = v
	default:
		return newError(http.StatusBadRequest, msgErrorProcessing)
	}
	v, err := defaultProjection(t.ext, result)
	if err != nil {
		return err
	}
	return transcode(w, t.ext, v)
}

// project follows an absolute path of object fields ("/a/b") into v.
func project(v json.RawMessage, path string) (json.RawMessage, bool) {
	for _, field := range strings.Split(path, "/") {
		if field == "" {
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil, false
		}
		next, ok := obj[field]
		if !ok {
			return nil, false
		}
		v = next
	}
	return v, true
}

// defaultProjection is what .html, .text and .svg answer without a path:
// the field named like the extension, else "body", of an object; any other
// value as it is. .json and .http take the whole value.
func defaultProjection(ext extension, v json.RawMessage) (json.RawMessage, error) {
	if ext == extJSON || ext == extHTTP || jsonKind(v) != '{' {
		return v, nil
	}
	if f, ok := project(v, string(ext)); ok {
		return f, nil
	}
	if f, ok := project(v, "body"); ok {
		return f, nil
	}
	return nil, newError(http.StatusNotFound, msgPropertyNotFound)
}

// transcode writes v as the extension's content.
func transcode(w http.ResponseWriter, ext extension, v json.RawMessage) error {
	switch ext {
	case extJSON:
		if k := jsonKind(v); k != '{' && k != '[' {
			return newError(http.StatusBadRequest, invalidMedia("application/json"))
		}
		writeBody(w, http.StatusOK, "application/json", v)
	case extHTML, extSVG:
		contentType := "text/html; charset=UTF-8"
		if ext == extSVG {
			contentType = "image/svg+xml"
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			mediaType, _, _ := strings.Cut(contentType, ";")
			return newError(http.StatusBadRequest, invalidMedia(mediaType))
		}
		writeBody(w, http.StatusOK, contentType, []byte(s))
	case extText:
		writeBody(w, http.StatusOK, "text/plain; charset=UTF-8", textOf(v))
	default:
		return writeHTTP(w, v)
	}
	return nil
}

// textOf renders a JSON value as .text does: a string as itself, an object
// or array indented, a number, boolean or null as its JSON text.
func textOf(v json.RawMessage) []byte {
	switch jsonKind(v) {
	case '"':
		var s string
		_ = json.Unmarshal(v, &s)
		return []byte(s)
	case '{', '[':
		var b bytes.Buffer
		if json.Indent(&b, v, "", "  ") == nil {
			return b.Bytes()
		}
	}
	return bytes.TrimSpace(v)
}

// httpResult is the result of a .http web action.
type httpResult struct {
	Headers    json.RawMessage `json:"headers"`
	StatusCode json.RawMessage `json:"statusCode"`
	Body       json.RawMessage `json:"body"`
}

// writeHTTP answers with the statusCode, headers and body of v.
func writeHTTP(w http.ResponseWriter, v json.RawMessage) error {
	invalid := newError(http.StatusBadRequest, invalidMedia("message/http"))
	var res httpResult
	if jsonKind(v) != '{' || json.Unmarshal(v, &res) != nil {
		return invalid
	}
	headers, ok := responseHeaders(res.Headers)
	if !ok {
		return invalid
	}
	status, ok := statusCode(res.StatusCode)
	if !ok {
		return invalid
	}
	contentType := headers.Get("Content-Type")
	headers.Del("Content-Type")
	var body []byte
	var bodyType string
	switch jsonKind(res.Body) {
	case 0, 'n': // no body
	case '"':
		var s string
		_ = json.Unmarshal(res.Body, &s)
		if s != "" {
			var err error
			if body, bodyType, err = stringBody(s, contentType); err != nil {
				return err
			}
		}
	default: // a JSON value
		mediaType := "application/json"
		if contentType != "" {
			mt, _, err := mime.ParseMediaType(contentType)
			if err != nil || !strings.Contains(mt, "/") {
				return newError(http.StatusBadRequest, msgUnknownContentType)
			}
			mediaType = mt
		}
		if !isJSONFamily(mediaType) {
			return newError(http.StatusBadRequest, msgContentTypeMismatch)
		}
		body, bodyType = bytes.TrimSpace(res.Body), mediaType
		if mediaType != "application/json" {
			bodyType += "; charset=UTF-8"
		}
	}
	if status == 0 {
		status = http.StatusOK
		if body == nil {
			status = http.StatusNoContent
		}
	}
	out := w.Header()
	for k, vs := range headers {
		out.Del(k) // the action's headers replace defaults (CORS)
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	if body == nil {
		w.WriteHeader(status)
		return nil
	}
	writeBody(w, status, bodyType, body)
	return nil
}

// stringBody is a string body with the content type it is sent with
// (text/html by default): text as it is, binary content decoded from
// base64, and base64 JSON decoded too (OpenWhisk's legacy rule).
func stringBody(s, contentType string) ([]byte, string, error) {
	if contentType == "" {
		contentType = "text/html"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.Contains(mediaType, "/") {
		return nil, "", newError(http.StatusBadRequest, msgUnknownContentType)
	}
	if !isBinary(mediaType) {
		if _, ok := params["charset"]; !ok {
			contentType += "; charset=UTF-8"
		}
		if isJSONFamily(mediaType) {
			if b, ok := decodeBase64(s); ok {
				return b, contentType, nil
			}
		}
		return []byte(s), contentType, nil
	}
	b, ok := decodeBase64(s)
	if !ok {
		return nil, "", newError(http.StatusBadRequest, msgContentTypeMismatch)
	}
	return b, contentType, nil
}

// decodeBase64 decodes standard base64, padded or not.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	return b, err == nil
}

// responseHeaders reads the headers object of a .http result: values are
// strings, numbers, booleans or arrays of those (one header each).
func responseHeaders(raw json.RawMessage) (http.Header, bool) {
	h := http.Header{}
	if jsonKind(raw) == 0 || jsonKind(raw) == 'n' {
		return h, true
	}
	var obj map[string]json.RawMessage
	if jsonKind(raw) != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	for k, v := range obj {
		if !validHeaderName(k) {
			return nil, false
		}
		if hopByHop[http.CanonicalHeaderKey(k)] {
			continue // the server writes these itself
		}
		values, ok := headerValues(v)
		if !ok {
			return nil, false
		}
		for _, s := range values {
			h.Add(k, s)
		}
	}
	return h, true
}

// hopByHop are headers of the connection, not of the response.
var hopByHop = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true}

func headerValues(v json.RawMessage) ([]string, bool) {
	switch jsonKind(v) {
	case '"':
		var s string
		_ = json.Unmarshal(v, &s)
		return []string{strings.NewReplacer("\r", " ", "\n", " ").Replace(s)}, true
	case 't', 'f', '-', '0':
		return []string{string(bytes.TrimSpace(v))}, true
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil {
			return nil, false
		}
		var out []string
		for _, it := range items {
			vs, ok := headerValues(it)
			if !ok {
				return nil, false
			}
			out = append(out, vs...)
		}
		return out, true
	}
	return nil, false
}

// statusCode reads statusCode: a whole number or a string holding one,
// naming a known HTTP status from 200 up; absent is 0.
func statusCode(raw json.RawMessage) (int, bool) {
	var text string
	switch jsonKind(raw) {
	case 0, 'n':
		return 0, true
	case '"':
		_ = json.Unmarshal(raw, &text)
	case '-', '0':
		text = string(bytes.TrimSpace(raw))
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	code := int(f)
	if err != nil || float64(code) != f || code < 200 || http.StatusText(code) == "" {
		return 0, false
	}
	return code, true
}

// jsonKind is the first byte of a JSON value ('0' for any number), 0 for
// none.
func jsonKind(v json.RawMessage) byte {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return 0
	}
	if c := v[0]; c >= '1' && c <= '9' {
		return '0'
	}
	return v[0]
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func invalidMedia(mediaType string) string {
	return "Response is not valid '" + mediaType + "'."
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
