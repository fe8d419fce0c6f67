package natssub

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/wispio/wisp/feeds"
)

// maxNameLen bounds a subject, queue group or stream name, in bytes.
const maxNameLen = 1024

// feedParams are the parameters of the messages feed. Password and Token
// are secrets: never logged nor put in an error.
type feedParams struct {
	URL      string
	Subject  string
	Queue    string // core NATS queue group; empty: a plain subscription
	Stream   string // JetStream stream; empty: core NATS
	Username string
	Password string
	Token    string
}

// paramError is an error in the user's parameters: its message names the
// parameter and the reason, and it matches feeds.ErrInvalid.
type paramError struct{ msg string }

func (e *paramError) Error() string        { return e.msg }
func (e *paramError) Is(target error) bool { return target == feeds.ErrInvalid }

func invalidf(format string, args ...any) error {
	return &paramError{msg: fmt.Sprintf(format, args...)}
}

// messagesParams declares the messages feed's parameters once: they drive
// the generic checks, READ redaction, sealing and the catalogue's
// descriptions (feeds.Params).
func messagesParams() feeds.Params {
	return feeds.Params{
		{Name: "url", Type: feeds.TypeURL, Required: true, BindTime: true, Doc: "The NATS server, nats://HOST:PORT (also tls, ws, wss); no credentials in it."},
		{Name: "subject", Type: feeds.TypeString, Required: true, Doc: "The subject to subscribe to; * and > wildcards allowed."},
		{Name: "queue", Type: feeds.TypeString, Doc: "A core NATS queue group: the feeds of one group share the messages (not with stream)."},
		{Name: "stream", Type: feeds.TypeString, Doc: "A JetStream stream holding the subject: a durable consumer, acked after each event is stored (nothing lost)."},
		{Name: "username", Type: feeds.TypeString, BindTime: true, Doc: "The user name to log in with."},
		{Name: "password", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "The password to log in with (needs username)."},
		{Name: "token", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "A token to log in with (instead of a user name and password)."},
	}
}

// Params declares the parameters of a feed (feeds.Declarer).
func (p *Provider) Params(feed string) feeds.Params {
	if feed != MessagesFeed {
		return nil
	}
	return messagesParams()
}

// parseFeedParams reads and checks the messages feed's parameters: the
// declared checks, then the URL's, subject's and names' syntax.
func parseFeedParams(params map[string]json.RawMessage) (feedParams, error) {
	var p feedParams
	if err := messagesParams().Validate(params); err != nil {
		return p, err
	}
	var err error
	if p.URL, err = requiredString(params, "url"); err != nil {
		return p, err
	}
	if err := checkServerURL(p.URL); err != nil {
		return p, err
	}
	if p.Subject, err = requiredString(params, "subject"); err != nil {
		return p, err
	}
	if err := checkSubject(p.Subject); err != nil {
		return p, err
	}
	if p.Queue, err = optionalName(params, "queue"); err != nil {
		return p, err
	}
	if p.Stream, err = optionalName(params, "stream"); err != nil {
		return p, err
	}
	if p.Stream != "" && strings.ContainsAny(p.Stream, ".*>") {
		return p, invalidf("stream: %q: a stream name cannot hold '.', '*' or '>'", p.Stream)
	}
	if p.Stream != "" && p.Queue != "" {
		return p, invalidf("queue: not with stream: the feeds of one trigger share its durable consumer already")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"username", &p.Username}, {"password", &p.Password}, {"token", &p.Token}} {
		if *f.dst, _, err = stringParam(params, f.name); err != nil {
			return p, err
		}
	}
	switch {
	case p.Password != "" && p.Username == "":
		return p, invalidf("password: given without a username")
	case p.Token != "" && p.Username != "":
		return p, invalidf("token: give either a token or a username and password, not both")
	}
	return p, nil
}

// checkServerURL accepts nats://, tls://, ws:// and wss:// URLs with a
// host (the port defaults to NATS's 4222) and no credentials (those go in
// username, password or token, which are never shown).
func checkServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("url: %q is not a URL: want nats://HOST:PORT", raw)
	}
	if u.User != nil {
		return invalidf("url: must not hold credentials; use the username and password or token parameters")
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return invalidf("url: scheme %q is not one of nats, tls, ws, wss (want nats://HOST:PORT)", u.Scheme)
	}
	if u.Hostname() == "" {
		return invalidf("url: %q has no host: want %s://HOST:PORT", raw, u.Scheme)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalidf("url: port %q is not a number from 1 to 65535", port)
		}
	}
	return nil
}

// checkSubject checks a subject to subscribe to: dot-separated tokens,
// none empty, no whitespace; '*' only as a whole token, '>' only as the
// whole last token.
func checkSubject(subject string) error {
	if len(subject) > maxNameLen {
		return invalidf("subject: longer than %d bytes", maxNameLen)
	}
	if strings.IndexFunc(subject, unicode.IsSpace) >= 0 {
		return invalidf("subject: %q must not hold white space", subject)
	}
	tokens := strings.Split(subject, ".")
	for i, tok := range tokens {
		switch {
		case tok == "":
			return invalidf("subject: %q has an empty token (a.b, not a..b, .a or a.)", subject)
		case tok == ">" && i != len(tokens)-1:
			return invalidf("subject: %q: the wildcard > must be the last token", subject)
		case tok != ">" && strings.Contains(tok, ">"):
			return invalidf("subject: %q: > must stand alone in its token (a.>, not a.b>)", subject)
		case tok != "*" && strings.Contains(tok, "*"):
			return invalidf("subject: %q: * must stand alone in its token (a.*.c, not a.b*.c)", subject)
		}
	}
	return nil
}

// optionalName reads a queue group or stream name: absent or a string
// without white space.
func optionalName(params map[string]json.RawMessage, name string) (string, error) {
	s, _, err := stringParam(params, name)
	if err != nil {
		return "", err
	}
	if len(s) > maxNameLen {
		return "", invalidf("%s: longer than %d bytes", name, maxNameLen)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", invalidf("%s: %q must not hold white space", name, s)
	}
	return s, nil
}

// stringParam returns a string parameter; ok is false when it is absent
// or null.
func stringParam(params map[string]json.RawMessage, name string) (s string, ok bool, err error) {
	raw, present := params[name]
	if !present || string(raw) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, invalidf("%s: must be a string", name)
	}
	return s, true, nil
}

func requiredString(params map[string]json.RawMessage, name string) (string, error) {
	s, ok, err := stringParam(params, name)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		return "", invalidf("%s: required", name)
	}
	return s, nil
}
