package feeds

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/wispio/wisp/internal/redact"
)

// redactedValue replaces a secret in READ answers.
const redactedValue = `"********"`

// secretWords mark parameter names that hold credentials (compared in
// lower case, as substrings: "password", "mqttPassword", "accessToken").
var secretWords = []string{"password", "passwd", "secret", "token", "apikey", "api_key", "authkey", "credential", "privatekey", "private_key"}

// IsSecret reports whether a parameter name holds a credential.
func IsSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Redacted returns a copy of params fit to show: credentials replaced by
// "********", and the password of any URL (mqtt://user:pw@host) too.
func Redacted(params map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(params))
	for k, v := range params {
		switch {
		case IsSecret(k):
			out[k] = json.RawMessage(redactedValue)
		default:
			out[k] = redactURL(v)
		}
	}
	return out
}

// redactURL hides the password of a string value that is a URL with
// user information.
func redactURL(v json.RawMessage) json.RawMessage {
	if !urlWithPassword(v) {
		return v
	}
	var s string
	_ = json.Unmarshal(v, &s)
	b, _ := json.Marshal(redact.URL(s))
	return b
}

// urlWithPassword reports whether v is a JSON string holding a URL with a
// password.
func urlWithPassword(v json.RawMessage) bool {
	var s string
	if json.Unmarshal(v, &s) != nil || !strings.Contains(s, "@") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return false
	}
	_, has := u.User.Password()
	return has
}
