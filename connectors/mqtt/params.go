package mqtt

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wispio/wisp/feeds"
)

// Payload formats of the messages feed (parameter format).
const (
	FormatAuto   = "auto"   // JSON value if the payload parses, else text, else base64
	FormatJSON   = "json"   // JSON value; a payload that is not JSON carries payloadError
	FormatText   = "text"   // UTF-8 text; binary carries payloadError
	FormatBase64 = "base64" // always payloadBase64
)

// DefaultQoS is the subscription QoS of a feed without a qos parameter: 1,
// the lowest level at which the broker keeps messages for a persistent
// session and redelivers those not acknowledged.
const DefaultQoS = 1

// maxTopicLen is MQTT's limit on a topic name or filter, in bytes.
const maxTopicLen = 65535

// conn holds the parameters of a connection to a broker. Password is a
// secret: it is never logged nor put in an error.
type conn struct {
	URL      string
	Username string
	Password string
}

// feedParams are the parameters of the messages feed.
type feedParams struct {
	conn
	Topic    string
	QoS      byte
	ClientID string // empty: derived from the trigger name
	Format   string
}

// paramError is an error in the user's parameters: its message names the
// parameter and the reason, and it matches feeds.ErrInvalid.
type paramError struct{ msg string }

func (e *paramError) Error() string        { return e.msg }
func (e *paramError) Is(target error) bool { return target == feeds.ErrInvalid }

func invalidf(format string, args ...any) error {
	return &paramError{msg: fmt.Sprintf(format, args...)}
}

// messagesParams declares the messages feed's parameters.
func messagesParams() feeds.Params {
	return feeds.Params{
		{Name: "url", Type: feeds.TypeURL, Required: true, BindTime: true, Doc: "The broker, tcp://HOST:PORT (also mqtt, ssl, tls, mqtts, ws, wss); no credentials in it."},
		{Name: "topic", Type: feeds.TypeString, Required: true, Doc: "The topic filter to subscribe to; + and # wildcards allowed, $share/GROUP/ for a shared subscription."},
		{Name: "username", Type: feeds.TypeString, BindTime: true, Doc: "The user name to log in with."},
		{Name: "password", Type: feeds.TypeString, Secret: true, BindTime: true, Doc: "The password to log in with (needs username)."},
		{Name: "qos", Type: feeds.TypeInteger, Default: DefaultQoS, Doc: "The subscription QoS: 0, 1 or 2."},
		{Name: "clientId", Type: feeds.TypeString, Doc: "The MQTT client id of the feed's persistent session; derived from the trigger name when absent."},
		{Name: "format", Type: feeds.TypeString, Default: FormatAuto, Doc: "How the payload is passed: auto, json, text or base64."},
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
// declared checks, then the broker URL's and the topic filter's syntax.
func parseFeedParams(params map[string]json.RawMessage) (feedParams, error) {
	var p feedParams
	if err := messagesParams().Validate(params); err != nil {
		return p, err
	}
	var err error
	if p.conn, err = parseConn(params); err != nil {
		return p, err
	}
	if p.Topic, err = requiredString(params, "topic"); err != nil {
		return p, err
	}
	if err := checkTopicFilter(p.Topic); err != nil {
		return p, err
	}
	if p.QoS, err = qosParam(params, DefaultQoS); err != nil {
		return p, err
	}
	if p.ClientID, _, err = stringParam(params, "clientId"); err != nil {
		return p, err
	}
	if len(p.ClientID) > 65535 || strings.ContainsRune(p.ClientID, 0) {
		return p, invalidf("clientId: must be at most 65535 bytes with no NUL character")
	}
	format, ok, err := stringParam(params, "format")
	if err != nil {
		return p, err
	}
	if !ok || format == "" {
		format = FormatAuto
	}
	switch format {
	case FormatAuto, FormatJSON, FormatText, FormatBase64:
		p.Format = format
	default:
		return p, invalidf("format: %q is not one of auto, json, text, base64", format)
	}
	return p, nil
}

// parseConn reads url, username and password.
func parseConn(params map[string]json.RawMessage) (conn, error) {
	var c conn
	var err error
	if c.URL, err = requiredString(params, "url"); err != nil {
		return c, err
	}
	if err := checkBrokerURL(c.URL); err != nil {
		return c, err
	}
	if c.Username, _, err = stringParam(params, "username"); err != nil {
		return c, err
	}
	if c.Password, _, err = stringParam(params, "password"); err != nil {
		return c, err
	}
	if c.Password != "" && c.Username == "" {
		return c, invalidf("password: given without a username")
	}
	return c, nil
}

// checkBrokerURL accepts tcp://, mqtt://, ssl://, tls://, mqtts://, ws://
// and wss:// URLs with a host and a port, and no credentials (those go in
// username and password, which are never shown).
func checkBrokerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return invalidf("url: %q is not a URL: want tcp://HOST:PORT", raw)
	}
	if u.User != nil {
		return invalidf("url: must not hold credentials; use the username and password parameters")
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return invalidf("url: scheme %q is not one of tcp, mqtt, ssl, tls, mqtts, ws, wss (want tcp://HOST:PORT)", u.Scheme)
	}
	if u.Hostname() == "" {
		return invalidf("url: %q has no host: want %s://HOST:PORT", raw, u.Scheme)
	}
	if port := u.Port(); port == "" {
		return invalidf("url: %q has no port: want %s://HOST:PORT (1883 for tcp, 8883 for TLS)", raw, u.Scheme)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return invalidf("url: port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// checkTopicFilter checks an MQTT topic filter: non-empty, UTF-8, no NUL,
// '#' only as the whole last level, '+' only as a whole level.
func checkTopicFilter(topic string) error {
	if err := checkTopicText("topic", topic); err != nil {
		return err
	}
	levels := strings.Split(topic, "/")
	for i, level := range levels {
		switch {
		case level == "#" && i != len(levels)-1:
			return invalidf("topic: %q: the multi-level wildcard # must be the last level", topic)
		case level != "#" && strings.Contains(level, "#"):
			return invalidf("topic: %q: # must stand alone in its level (a/#, not a/b#)", topic)
		case level != "+" && strings.Contains(level, "+"):
			return invalidf("topic: %q: + must stand alone in its level (a/+/c, not a/b+/c)", topic)
		}
	}
	return nil
}

// checkTopicName checks a topic to publish to: a filter's rules, and no
// wildcard at all.
func checkTopicName(topic string) error {
	if err := checkTopicText("topic", topic); err != nil {
		return err
	}
	if strings.ContainsAny(topic, "+#") {
		return invalidf("topic: %q: a topic to publish to cannot hold the wildcards + or #", topic)
	}
	return nil
}

func checkTopicText(name, topic string) error {
	switch {
	case topic == "":
		return invalidf("%s: must not be empty", name)
	case len(topic) > maxTopicLen:
		return invalidf("%s: longer than %d bytes", name, maxTopicLen)
	case !utf8.ValidString(topic):
		return invalidf("%s: not valid UTF-8", name)
	case strings.ContainsRune(topic, 0):
		return invalidf("%s: must not hold a NUL character", name)
	}
	return nil
}

// matchTopic reports whether topic matches filter (both valid), with the
// rule that wildcards at the first level do not match topics starting
// with '$'. A shared subscription's prefix ($share/group/) is ignored.
func matchTopic(filter, topic string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		if _, f, ok := strings.Cut(rest, "/"); ok {
			filter = f
		}
	}
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	fl := strings.Split(filter, "/")
	tl := strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) {
			return false
		}
		if f != "+" && f != tl[i] {
			return false
		}
	}
	return len(fl) == len(tl)
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

// qosParam reads qos: 0, 1 or 2, as a number or a string.
func qosParam(params map[string]json.RawMessage, def byte) (byte, error) {
	raw, ok := params["qos"]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, invalidf("qos: must be 0, 1 or 2")
	}
	switch v {
	case float64(0), "0":
		return 0, nil
	case float64(1), "1":
		return 1, nil
	case float64(2), "2":
		return 2, nil
	}
	return 0, invalidf("qos: %s is not 0, 1 or 2", raw)
}

// boolParam reads a boolean, as true/false or "true"/"false".
func boolParam(params map[string]json.RawMessage, name string) (bool, error) {
	raw, ok := params[name]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, invalidf("%s: must be true or false", name)
	}
	switch v {
	case true, "true":
		return true, nil
	case false, "false":
		return false, nil
	}
	return false, invalidf("%s: %s is not true or false", name, raw)
}
