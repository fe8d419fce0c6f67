package slack

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
)

// FeedEvents is the feed action, /whisk.system/slack/events.
const FeedEvents = "events"

// Config configures the provider.
type Config struct {
	// APIURL is the Slack Web API base; "" means https://slack.com/api/.
	APIURL string
	// PublicURL is Wisp's base URL as Slack reaches it.
	PublicURL string
	// MaxBody bounds a request body; 0 means 1 MiB.
	MaxBody int64
	// RecentEvents is how many event ids a feed remembers to drop Slack's
	// retries; 0 means 100.
	RecentEvents int
	// Egress is the policy every outbound connection passes (API calls,
	// incoming webhooks, Socket Mode); nil is the default policy (no
	// private or loopback address).
	Egress *egress.Policy
}

// Provider is the Slack provider.
type Provider struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client // through cfg.Egress, 30 s per request

	hooks hookfeed.Set[hook] // running feeds by hook id
}

var (
	_ feeds.Provider     = (*Provider)(nil)
	_ feeds.Registerer   = (*Provider)(nil)
	_ feeds.HTTPProvider = (*Provider)(nil)
	_ feeds.WithActions  = (*Provider)(nil)
	_ feeds.Endpointer   = (*Provider)(nil)
)

// New returns the Slack provider.
func New(cfg Config, log *slog.Logger) (*Provider, error) {
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("slack api url: %q is not an http(s) URL", cfg.APIURL)
		}
		cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/") + "/"
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.RecentEvents <= 0 {
		cfg.RecentEvents = 100
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	return &Provider{cfg: cfg, log: log, http: cfg.Egress.HTTPClient(30 * time.Second)}, nil
}

// Name is the catalogue package, /whisk.system/slack.
func (p *Provider) Name() string { return "slack" }

// Feeds lists the feed actions.
func (p *Provider) Feeds() []string { return []string{FeedEvents} }

// Description describes the catalogue package.
func (p *Provider) Description() string {
	return "Package which contains actions and feeds to interact with Slack"
}

// FeedDescription describes a feed action.
func (p *Provider) FeedDescription(string) string {
	return "Fire trigger on Slack events, slash commands and interactions (parameters: signingSecret for the Events API, or appToken for Socket Mode; token)"
}

func (p *Provider) api(token string, extra ...slack.Option) *slack.Client {
	opts := append([]slack.Option{slack.OptionHTTPClient(p.http)}, extra...)
	if p.cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(p.cfg.APIURL))
	}
	return slack.New(token, opts...)
}

// feedParams are the events feed's parameters.
type feedParams struct {
	signingSecret string
	// appToken is an app-level token (xapp-...): the feed connects in
	// Socket Mode and signingSecret is not used.
	appToken string
	token    string // optional bot token, checked with auth.test
}

// socketMode reports whether the feed connects to Slack over Socket Mode
// rather than waiting for the Events API's requests.
func (p feedParams) socketMode() bool { return p.appToken != "" }

func parseFeedParams(p map[string]json.RawMessage) (feedParams, error) {
	var out feedParams
	if err := checkDeclared(p); err != nil {
		return out, err
	}
	for key, dst := range map[string]*string{"signingSecret": &out.signingSecret, "appToken": &out.appToken, "token": &out.token} {
		raw, ok := p[key]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return out, fmt.Errorf("%s: must be a string", key)
		}
		*dst = strings.TrimSpace(*dst)
	}
	switch {
	case out.socketMode() && !strings.HasPrefix(out.appToken, "xapp-"):
		return out, errors.New("appToken: not an app-level token (xapp-...; Basic Information, App-Level Tokens, with the connections:write scope)")
	case !out.socketMode() && out.signingSecret == "":
		return out, errors.New("signingSecret: missing; the Signing Secret of the Slack app (Basic Information page), or appToken for Socket Mode")
	}
	return out, nil
}

// Validate checks the parameters; a token is checked with auth.test, an
// appToken with apps.connections.open (the WebSocket URL it answers is
// left unused: Slack lets it expire).
func (p *Provider) Validate(ctx context.Context, _ string, params map[string]json.RawMessage) error {
	prm, err := parseFeedParams(params)
	if err != nil {
		return err
	}
	switch {
	case prm.socketMode():
		if _, _, err := p.api("", slack.OptionAppLevelToken(prm.appToken)).StartSocketModeContext(ctx); err != nil {
			if d := deniedError(err); d != nil {
				return d
			}
			return fmt.Errorf("appToken: Slack refused it (apps.connections.open: %s)", slackError(err))
		}
	case p.cfg.PublicURL == "":
		return errors.New("this server has no public URL for Slack to post to (wisp serve --public-url); or use Socket Mode with appToken")
	}
	if prm.token != "" {
		if _, err := p.api(prm.token).AuthTestContext(ctx); err != nil {
			if d := deniedError(err); d != nil {
				return d
			}
			return fmt.Errorf("token: Slack refused it (auth.test: %s)", slackError(err))
		}
	}
	return nil
}

// state is the feed's hook id, kept in the registration's State.
type state struct {
	ID string `json:"id"`
}

func parseState(raw json.RawMessage) (state, error) {
	var st state
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			return st, fmt.Errorf("the registration's hook state is unreadable: %w", err)
		}
	}
	return st, nil
}

// Register makes the hook id on CREATE and keeps it on UPDATE, so that
// the Slack app's request URL stays valid.
func (p *Provider) Register(_ context.Context, reg feeds.Registration) (json.RawMessage, error) {
	st, err := parseState(reg.State)
	if err != nil {
		return nil, err
	}
	if st.ID == "" {
		st.ID = rand.Text()
	}
	return json.Marshal(st)
}

// Unregister has nothing to undo at Slack: the app's request URL simply
// answers 404 from now on.
func (p *Provider) Unregister(context.Context, feeds.Registration) error { return nil }

// Endpoint is the URL to paste into the Slack app (Event Subscriptions,
// Slash Commands, Interactivity); a Socket Mode feed has none.
func (p *Provider) Endpoint(reg feeds.Registration) string {
	if prm, err := parseFeedParams(reg.Params); err == nil && prm.socketMode() {
		return ""
	}
	st, err := parseState(reg.State)
	if err != nil || st.ID == "" {
		return ""
	}
	return p.cfg.PublicURL + feeds.HookPath(p.Name()) + st.ID
}

// Start serves the feed's hook URL, or connects in Socket Mode, until the
// Feed stops.
func (p *Provider) Start(ctx context.Context, reg feeds.Registration, sink feeds.Sink) (feeds.Feed, error) {
	prm, err := parseFeedParams(reg.Params)
	if err != nil {
		return nil, err
	}
	deliveries, err := hookfeed.NewDeliveries(sink, p.cfg.RecentEvents, reg.Cursor)
	if err != nil {
		p.log.Warn("starting with no recent events", "trigger", reg.Trigger, "err", err)
	}
	if prm.socketMode() {
		return p.startSocket(ctx, reg.Trigger, prm, deliveries, sink), nil
	}
	st, err := parseState(reg.State)
	if err != nil {
		return nil, err
	}
	if st.ID == "" {
		return nil, fmt.Errorf("the registration of %s has no hook id; create the feed again", reg.Trigger)
	}
	h := &hook{id: st.ID, trigger: reg.Trigger, secret: prm.signingSecret, deliveries: deliveries}
	f, err := p.hooks.Run(st.ID, h)
	if err != nil {
		return nil, fmt.Errorf("the hook of %s: %w", reg.Trigger, err)
	}
	return f, nil
}

func (p *Provider) lookup(id string) *hook { return p.hooks.Lookup(id) }
