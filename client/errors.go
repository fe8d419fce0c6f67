package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is a non-2xx answer from the server. Message and Code come from
// OpenWhisk's error body {"error": "...", "code": "<transaction id>"}; when the
// body has another shape, Message describes the HTTP status instead.
type Error struct {
	StatusCode int
	Message    string
	Code       string
}

// Error renders the error the way wsk does: "<message> (code <code>)".
func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return fmt.Sprintf("%s (code %s)", e.Message, e.Code)
}

// newError builds an *Error from a failed response.
func newError(status int, body []byte) *Error {
	var b struct {
		Error json.RawMessage `json:"error"`
		Code  json.RawMessage `json:"code"`
	}
	e := &Error{StatusCode: status}
	if json.Unmarshal(body, &b) == nil && len(b.Error) > 0 {
		e.Message = rawText(b.Error)
		e.Code = rawText(b.Code)
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("the server answered HTTP %d %s", status, http.StatusText(status))
	}
	return e
}

// rawText renders a JSON value as text: strings unquoted, null as "", anything
// else (numeric transaction ids, objects) as its JSON.
func rawText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}
