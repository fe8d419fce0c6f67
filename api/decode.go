package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/wispio/wisp/entity"
)

// decodeBody reads a JSON body of at most limit bytes into v. An empty body
// leaves v as it is; one nesting deeper than entity.MaxJSONDepth is refused
// (400) before it is decoded.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	if err := checkDepth(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return malformed(err)
	}
	return nil
}

// checkDepth refuses a body nesting deeper than entity.MaxJSONDepth.
func checkDepth(body []byte) error {
	if entity.JSONDepth(body, entity.MaxJSONDepth) > entity.MaxJSONDepth {
		return entity.Invalid("", "The request content was malformed: %s", entity.DepthReason())
	}
	return nil
}

// malformed names the field a JSON decoding error is about.
func malformed(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return entity.Invalid(te.Field, "must be of type %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
	}
	return entity.Invalid("", "The request content was malformed: %v", err)
}

func jsonType(goKind string) string {
	switch goKind {
	case "struct", "map", "ptr":
		return "object"
	case "slice":
		return "array"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return goKind
}

// queryInt reads an integer query parameter with a default.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, entity.Invalid(name, "query parameter must be a non-negative integer, not %q", v)
	}
	return n, nil
}

// queryBool reads a boolean query parameter ("true"/"false"); absent is def.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, entity.Invalid(name, "query parameter must be true or false, not %q", v)
	}
	return b, nil
}

// listLimit reads OpenWhisk's limit and skip: limit defaults to 30, and 0
// means the maximum of 200.
func listPage(r *http.Request) (skip, limit int, err error) {
	if skip, err = queryInt(r, "skip", 0); err != nil {
		return 0, 0, err
	}
	if limit, err = queryInt(r, "limit", 30); err != nil {
		return 0, 0, err
	}
	if limit == 0 || limit > 200 {
		if limit > 200 {
			return 0, 0, entity.Invalid("limit", "query parameter must be at most 200, not %d", limit)
		}
		limit = 200
	}
	return skip, limit, nil
}
