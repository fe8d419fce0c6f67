package bus

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
)

// The flags a NATS bus's credentials come from, as errors name them.
const (
	flagBus            = "--bus"
	flagBusCredentials = "--bus-credentials-file"
)

// natsAuth returns the connection option that authenticates with the
// credentials in file (NATSOptions.CredentialsFile): nil when file is
// empty. Neither its errors nor anything else here repeat the secret.
func natsAuth(file, rawURL string) (nats.Option, error) {
	if file == "" {
		return nil, nil
	}
	if urlHasUser(rawURL) {
		return nil, fmt.Errorf("%s carries credentials and %s is set: give them in one place", flagBus, flagBusCredentials)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagBusCredentials, err)
	}
	defer clear(data)
	text := string(data)
	switch {
	case strings.Contains(text, "-----BEGIN NATS USER JWT-----"):
		// A .creds file (a user JWT and its nkey seed): nats.go reads it
		// again at every connect, so a renewed file is picked up.
		return nats.UserCredentials(file), nil
	case isNkeySeed(text):
		opt, err := nats.NkeyOptionFromSeed(file)
		if err != nil {
			return nil, fmt.Errorf("%s %s: an nkey user seed (SU...) that does not decode: %w", flagBusCredentials, file, err)
		}
		return opt, nil
	}
	line := strings.TrimRight(text, "\r\n")
	user, password, ok := strings.Cut(line, ":")
	if !ok || user == "" || strings.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("%s %s: want one line USER:PASSWORD, an nkey user seed (SU...) or a NATS .creds file", flagBusCredentials, file)
	}
	return nats.UserInfo(user, password), nil
}

// isNkeySeed reports whether the first non-blank line of text is an nkey
// user seed.
func isNkeySeed(text string) bool {
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); line != "" {
			return strings.HasPrefix(line, "SU")
		}
	}
	return false
}

// urlHasUser reports whether any URL of the comma-separated list raw
// carries user information.
func urlHasUser(raw string) bool {
	for p := range strings.SplitSeq(raw, ",") {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			return true
		}
	}
	return false
}

// authHint says where the credentials the server refused come from, for
// the error of a failed connection; "" when err is not a refusal.
func authHint(err error, rawURL, file string) string {
	if !errors.Is(err, nats.ErrAuthorization) && !errors.Is(err, nats.ErrAuthExpired) && !errors.Is(err, nats.ErrAuthRevoked) {
		return ""
	}
	switch {
	case file != "":
		return fmt.Sprintf("the server refused the credentials of %s %s", flagBusCredentials, file)
	case urlHasUser(rawURL):
		return fmt.Sprintf("the server refused the credentials in %s (nats://USER:PASSWORD@HOST)", flagBus)
	}
	return fmt.Sprintf("the server requires credentials: give them in %s (nats://USER:PASSWORD@HOST) or %s (USER:PASSWORD, an nkey seed or a .creds file)", flagBus, flagBusCredentials)
}
