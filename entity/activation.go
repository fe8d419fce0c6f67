package entity

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Activation response status codes, as OpenWhisk numbers them.
const (
	StatusSuccess          = 0
	StatusApplicationError = 1
	StatusDeveloperError   = 2
	StatusWhiskError       = 3
)

var statusNames = [...]string{"success", "application error", "action developer error", "whisk internal error"}

// Response is an activation's outcome.
type Response struct {
	Status     string          `json:"status"`
	StatusCode int             `json:"statusCode"`
	Success    bool            `json:"success"`
	Result     json.RawMessage `json:"result,omitempty"`
	// Size is the result size in bytes when it was truncated or rejected.
	Size *int `json:"size,omitempty"`
}

// NewResponse returns a response with the given status code and result.
func NewResponse(code int, result json.RawMessage) Response {
	return Response{Status: statusNames[code], StatusCode: code, Success: code == StatusSuccess, Result: result}
}

// ErrorResponse returns a response of the given status code whose result is
// {"error": msg}.
func ErrorResponse(code int, msg string) Response {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return NewResponse(code, b)
}

// ResponseFromRun classifies what a container's /run answered, as
// OpenWhisk's invoker does: a 200 with a JSON object is a success, or an
// application error when the object has an "error" field; any other status is
// an action developer error, carrying the object's "error" when it has one; a
// body that is not a JSON object is a developer error. A result over
// maxResult bytes, or nesting deeper than MaxJSONDepth (it could not be
// decoded again from its record), is a developer error too.
func ResponseFromRun(status int, body []byte, maxResult int) Response {
	body = bytes.TrimSpace(body)
	if maxResult > 0 && len(body) > maxResult {
		r := ErrorResponse(StatusDeveloperError, fmt.Sprintf("The action produced a response that exceeded the allowed length: %d > %d bytes.", len(body), maxResult))
		n := len(body)
		r.Size = &n
		return r
	}
	if JSONDepth(body, MaxJSONDepth) > MaxJSONDepth {
		return ErrorResponse(StatusDeveloperError, fmt.Sprintf("The action produced a response that nests arrays and objects deeper than the limit of %d levels.", MaxJSONDepth))
	}
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return ErrorResponse(StatusDeveloperError, "The action did not produce a valid JSON response: "+truncate(string(body), 512))
	}
	body = compactJSON(body)
	var fields struct {
		Error json.RawMessage `json:"error"`
	}
	_ = json.Unmarshal(body, &fields)
	hasError := len(fields.Error) > 0
	switch {
	case status == 200 && !hasError:
		return NewResponse(StatusSuccess, body)
	case status == 200:
		return NewResponse(StatusApplicationError, errorObject(fields.Error))
	case hasError:
		return NewResponse(StatusDeveloperError, errorObject(fields.Error))
	default:
		return ErrorResponse(StatusDeveloperError, "The action did not produce a valid response and exited unexpectedly.")
	}
}

// compactJSON returns valid JSON body without insignificant whitespace, as
// OpenWhisk answers results (Python's json.dumps writes ", " and ": "),
// whether a blocking caller gets the bytes straight or through a record.
func compactJSON(body []byte) []byte {
	if !bytes.ContainsAny(body, " \t\r\n") {
		return body
	}
	var b bytes.Buffer
	b.Grow(len(body))
	if json.Compact(&b, body) != nil {
		return body
	}
	return b.Bytes()
}

func errorObject(errValue json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"error":`)
	b.Write(errValue)
	b.WriteByte('}')
	return b.Bytes()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Activation is the record of one invocation.
type Activation struct {
	ActivationID string   `json:"activationId"`
	Namespace    string   `json:"namespace"`
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Subject      string   `json:"subject"`
	Publish      bool     `json:"publish"`
	Start        int64    `json:"start"`
	End          int64    `json:"end"`
	Duration     int64    `json:"duration"`
	StatusCode   int      `json:"statusCode"`
	Response     Response `json:"response"`
	Logs         []string `json:"logs"`
	Annotations  Params   `json:"annotations"`
	Cause        string   `json:"cause,omitempty"`
}

// Summary is the activation as list calls without docs return it: no
// response result and no logs.
func (a *Activation) Summary() Activation {
	s := *a
	s.Response = Response{Status: a.Response.Status, StatusCode: a.Response.StatusCode, Success: a.Response.Success}
	s.Logs = []string{}
	return s
}

// NewActivationID returns a 32-hex-digit activation id: a millisecond
// timestamp in the first 6 bytes, then 10 random bytes. Ids made later sort
// later, so stores append to their id indexes instead of writing all over
// them.
func NewActivationID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// ValidActivationID reports whether id looks like an activation id.
func ValidActivationID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
