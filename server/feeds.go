package server

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/secrets"
)

// feedsConfig is the feed manager's configuration, with the key that
// seals the registrations' secrets: the operator's SecretKeyFile, else the
// data folder's secret.key (created 0600 at first start).
func (s *Server) feedsConfig() (feeds.Config, error) {
	cfg := feeds.DefaultConfig()
	cfg.Tracer = s.cfg.Tracer
	cfg.Observer = s.metrics
	var err error
	if s.cfg.SecretKeyFile != "" {
		cfg.Secrets, err = secrets.LoadKeyFile(s.cfg.SecretKeyFile)
	} else {
		cfg.Secrets, err = secrets.LoadOrCreateKeyFile(filepath.Join(s.cfg.DataDir, "secret.key"))
	}
	if err != nil {
		return feeds.Config{}, fmt.Errorf("secret-key-file: %w", err)
	}
	return cfg, nil
}

// ConnectorsConfig configures the connectors the server runs: every one
// registered with package feeds (cmd/wisp imports connectors/all).
type ConnectorsConfig struct {
	// PublicURL is Wisp's base URL as outside services (GitHub, Slack)
	// reach it (https://wisp.example.com); "" means http://<listen
	// address>, fit for tests and for a local GitHub Enterprise only.
	PublicURL string
	// Settings are operator settings for connectors, by name
	// ("github-api-url", "slack-api-url": the `wisp serve` flags of the
	// same names); each connector reads its own (feeds.Env.Settings).
	Settings map[string]string
}

// feedProviders makes one provider of every registered connector; each
// becomes a catalogue package /whisk.system/<name> with its feed actions.
// publicURL is the base of hook URLs; every outbound connection a provider
// makes passes policy.
func feedProviders(cfg ConnectorsConfig, publicURL string, policy *egress.Policy, log *slog.Logger) ([]feeds.Provider, error) {
	return feeds.NewProviders(feeds.Env{Log: log, Egress: policy, PublicURL: publicURL, Settings: cfg.Settings})
}

// publicURL is the configured public URL or the listen address's.
func publicURL(cfg ConnectorsConfig, addr string) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(cfg.PublicURL, "/")
	}
	return "http://" + addr
}
