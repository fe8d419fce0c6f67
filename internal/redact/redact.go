package redact

import (
	"net/url"
	"strings"
)

// Mask replaces hidden user information.
const Mask = "xxxxx"

// URL returns raw with the user information (user and password, or a
// token) of every URL in it replaced by Mask; raw may be a comma-separated
// list, as NATS server lists are. A part that does not parse keeps only
// its scheme and what follows its last '@'.
func URL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		parts[i] = one(p)
	}
	return strings.Join(parts, ",")
}

func one(p string) string {
	at := strings.LastIndexByte(p, '@')
	if at < 0 {
		return p
	}
	if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
		u.User = url.User(Mask)
		return u.String()
	}
	if s := strings.Index(p, "://"); s >= 0 && s < at {
		return p[:s+3] + Mask + p[at:]
	}
	return Mask + p[at:]
}

// Wrap returns err with every occurrence of the URL raw in its text (as it
// is, or quoted as url.Error quotes it) shown redacted; errors.Is and
// errors.As still see err. A nil err stays nil.
func Wrap(err error, raw string) error {
	if err == nil || !strings.Contains(raw, "@") {
		return err
	}
	return &redacted{err: err, raw: raw}
}

type redacted struct {
	err error
	raw string
}

func (r *redacted) Error() string {
	return strings.ReplaceAll(r.err.Error(), r.raw, URL(r.raw))
}

func (r *redacted) Unwrap() error { return r.err }
