package apigw

import (
	"net/url"
	"strings"
)

// Param is a path parameter's value from a request path.
type Param struct {
	Name, Value string
}

// Match is the route a request reaches.
type Match struct {
	API   *API
	Route *Route
	// Params are the path parameters, in path order.
	Params []Param
}

// Outcome tells why Find found no route.
type Outcome int

const (
	// Found: Match holds the route.
	Found Outcome = iota
	// NoAPI: no API or no path of one matches.
	NoAPI
	// NoMethod: a path matches but not with this method; Match.API is set.
	NoMethod
)

// Find matches a request path (below the namespace id, "/club/books/1")
// and method against the table: the longest base path that is a prefix
// of the path at a segment boundary, then the route whose relative path
// matches, literal segments winning over parameters.
func (t *Table) Find(method, path string) (Match, Outcome) {
	outcome := NoAPI
	var api *API
	for _, a := range t.APIs {
		rest, ok := underBase(path, a.BasePath)
		if !ok {
			continue
		}
		segs := splitPath(rest)
		best, bestScore, pathSeen := -1, -1, false
		for i := range a.Routes {
			r := &a.Routes[i]
			score, ok := matchSegments(r.segments, segs)
			if !ok {
				continue
			}
			pathSeen = true
			if r.Method == method && score > bestScore {
				best, bestScore = i, score
			}
		}
		if best >= 0 {
			r := &a.Routes[best]
			return Match{API: a, Route: r, Params: params(r.segments, segs)}, Found
		}
		if pathSeen && outcome == NoAPI {
			outcome, api = NoMethod, a
		}
	}
	return Match{API: api}, outcome
}

// underBase returns path below base when base is a prefix of it at a
// segment boundary.
func underBase(path, base string) (string, bool) {
	base = strings.TrimSuffix(base, "/")
	if base == "" {
		return path, true
	}
	rest, ok := strings.CutPrefix(path, base)
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	return rest, true
}

// matchSegments reports whether a route's segments match a path's, with a
// score that is higher the earlier and the more literal segments match.
func matchSegments(route, path []string) (int, bool) {
	if len(route) != len(path) {
		return 0, false
	}
	score := 0
	for i, s := range route {
		score <<= 1
		if isParam(s) {
			if path[i] == "" {
				return 0, false
			}
			continue
		}
		if s != path[i] {
			return 0, false
		}
		score |= 1
	}
	return score, true
}

func params(route, path []string) []Param {
	var out []Param
	for i, s := range route {
		if isParam(s) {
			v, err := url.PathUnescape(path[i])
			if err != nil {
				v = path[i]
			}
			out = append(out, Param{Name: s[1 : len(s)-1], Value: v})
		}
	}
	return out
}

func isParam(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// PathParams returns the names of the {name} segments of a path.
func PathParams(path string) []string {
	var out []string
	for _, s := range splitPath(path) {
		if isParam(s) {
			out = append(out, s[1:len(s)-1])
		}
	}
	return out
}
