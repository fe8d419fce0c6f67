package feeds

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/wispio/wisp/internal/redact"
)

// redactedValue replaces a secret in READ answers.
const redactedValue = `"********"`

// declaredParams returns the declaration of reg's feed, or nil when its
// provider declares none (or is not known): then every parameter counts
// as a secret.
func (m *Manager) declaredParams(reg Registration) Params {
	d, ok := m.providers[reg.Provider].(Declarer)
	if !ok {
		return nil
	}
	return d.Params(reg.Feed)
}

// secretParam reports whether name is to be kept secret in a feed declared
// by decl: a parameter declared secret, or one not declared at all (an
// extra the user passed, which may well be a credential: "secretNote");
// with no declaration (nil), every parameter.
func secretParam(decl Params, name string) bool {
	p, declared := decl.Lookup(name)
	return !declared || p.Secret
}

// Redacted returns a copy of params fit to show: the parameters decl
// declares secret, and those it does not declare (every one when decl is
// nil), replaced by "********"; and the password of any URL
// (mqtt://user:pw@host) too.
func Redacted(decl Params, params map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(params))
	for k, v := range params {
		switch {
		case secretParam(decl, k):
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
