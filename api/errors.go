package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/throttle"
)

// Messages OpenWhisk answers with.
const (
	msgNotFound        = "The requested resource does not exist."
	msgExists          = "resource already exists"
	msgConflict        = "Concurrent modification to resource detected."
	msgUnauthenticated = "The resource requires authentication, which was not supplied with the request"
	msgBadAuth         = "The supplied authentication is invalid"
	msgInternal        = "Internal server error"
)

// apiError is an error with the HTTP status it answers with.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func newError(status int, msg string) error { return &apiError{status: status, msg: msg} }

// errorBody is OpenWhisk's error body.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// writeError maps err to a status and writes the error body. It is the one
// place where errors become HTTP statuses.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, msgInternal
	var ae *apiError
	var mbe *http.MaxBytesError
	var forbidden *routing.ForbiddenError
	var throttled *throttle.Error
	switch fe, isField := entity.AsFieldError(err); {
	case errors.As(err, &ae):
		status, msg = ae.status, ae.msg
	case errors.As(err, &throttled):
		status, msg = http.StatusTooManyRequests, throttled.Error()
	case errors.As(err, &forbidden):
		status, msg = http.StatusForbidden, forbidden.Error()
	case errors.Is(err, entity.ErrPackageCannotBecomeBinding):
		status, msg = http.StatusConflict, "Resource is a package and cannot be converted into a binding."
	case isField && fe.TooLarge:
		status, msg = http.StatusRequestEntityTooLarge, "The request content was too large: "+fe.Error()
	case isField:
		status, msg = http.StatusBadRequest, fe.Error()
	case errors.As(err, &mbe):
		status, msg = http.StatusRequestEntityTooLarge, "The request content was too large: the body exceeds the limit of "+itoa(mbe.Limit)+" bytes"
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, msgNotFound
	case errors.Is(err, store.ErrConflict):
		status, msg = http.StatusConflict, msgConflict
	case errors.Is(err, routing.ErrExists):
		status, msg = http.StatusConflict, msgExists
	case errors.Is(err, routing.ErrNoInvoker):
		status, msg = http.StatusServiceUnavailable, "No invokers available."
	}
	code := transactionID(r)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "code", code, "err", err)
	} else {
		s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "code", code, "err", err)
	}
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Internal server error","code":""}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
