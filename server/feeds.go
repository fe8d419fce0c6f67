package server

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/wispio/wisp/connectors/alarms"
	"github.com/wispio/wisp/connectors/couchdb"
	"github.com/wispio/wisp/connectors/github"
	"github.com/wispio/wisp/connectors/mqtt"
	"github.com/wispio/wisp/connectors/slack"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/secrets"
)

// feedsConfig is the feed manager's configuration, with the key that
// seals the registrations' secrets: the operator's SecretKeyFile, else the
// data folder's secret.key (created 0600 at first start).
func (s *Server) feedsConfig() (feeds.Config, error) {
	cfg := feeds.DefaultConfig()
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

// HooksConfig configures the providers that receive events over HTTP
// (GitHub webhooks, Slack's Events API) and call outside APIs.
type HooksConfig struct {
	// PublicURL is Wisp's base URL as GitHub and Slack reach it
	// (https://wisp.example.com); "" means http://<listen address>, fit
	// for tests and for a local GitHub Enterprise only.
	PublicURL string
	// GitHubAPIURL is the GitHub REST API base; "" means api.github.com.
	// GitHub Enterprise Server: https://HOST/api/v3/.
	GitHubAPIURL string
	// SlackAPIURL is the Slack Web API base; "" means https://slack.com/api/.
	SlackAPIURL string
}

// feedProviders lists the feed providers this server runs; each becomes a
// catalogue package /whisk.system/<name> with its feed actions. Add a
// connector (mqtt, couchdb...) here. publicURL is the base of hook URLs;
// every outbound connection a provider makes passes policy.
func feedProviders(cfg HooksConfig, publicURL string, policy *egress.Policy, log *slog.Logger) ([]feeds.Provider, error) {
	gh, err := github.New(github.Config{APIURL: cfg.GitHubAPIURL, PublicURL: publicURL, Egress: policy}, log.With("provider", "github"))
	if err != nil {
		return nil, err
	}
	sl, err := slack.New(slack.Config{APIURL: cfg.SlackAPIURL, PublicURL: publicURL, Egress: policy}, log.With("provider", "slack"))
	if err != nil {
		return nil, err
	}
	mqttConfig := mqtt.DefaultConfig()
	mqttConfig.Egress = policy
	return []feeds.Provider{
		alarms.New(alarms.Config{}, log.With("provider", "alarms")),
		mqtt.New(mqttConfig, log.With("provider", "mqtt")),
		couchdb.New(couchdb.Config{Egress: policy}, log.With("provider", "couchdb")),
		gh,
		sl,
	}, nil
}

// publicURL is the configured public URL or the listen address's.
func publicURL(cfg HooksConfig, addr string) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(cfg.PublicURL, "/")
	}
	return "http://" + addr
}
