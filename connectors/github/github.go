package github

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

	gh "github.com/google/go-github/v84/github"

	"github.com/wispio/wisp/connectors/hookfeed"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
)

// Config configures the provider.
type Config struct {
	// APIURL is the GitHub REST API base: "" means https://api.github.com/;
	// GitHub Enterprise Server is https://HOST/api/v3/.
	APIURL string
	// PublicURL is Wisp's base URL as GitHub reaches it
	// (https://wisp.example.com); hooks post to PublicURL/hooks/github/<id>.
	PublicURL string
	// MaxBody bounds a delivery's body; 0 means 25 MiB, GitHub's own cap.
	MaxBody int64
	// RecentDeliveries is how many delivery ids a feed remembers to drop
	// redeliveries; 0 means 100.
	RecentDeliveries int
	// Egress is the policy the API calls pass; nil is the default policy
	// (no private or loopback address: a GitHub Enterprise Server on a
	// private address needs it allowed).
	Egress *egress.Policy
}

// Provider is the GitHub feed provider.
type Provider struct {
	cfg  Config
	api  *url.URL
	log  *slog.Logger
	http *http.Client // through cfg.Egress, 30 s per request

	hooks hookfeed.Set[hook] // running feeds by hook id
}

var (
	_ feeds.Provider     = (*Provider)(nil)
	_ feeds.Registerer   = (*Provider)(nil)
	_ feeds.HTTPProvider = (*Provider)(nil)
	_ feeds.Described    = (*Provider)(nil)
	_ feeds.Endpointer   = (*Provider)(nil)
)

// New returns the GitHub provider; the API URL must parse.
func New(cfg Config, log *slog.Logger) (*Provider, error) {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 25 << 20
	}
	if cfg.RecentDeliveries <= 0 {
		cfg.RecentDeliveries = 100
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	p := &Provider{cfg: cfg, log: log, http: cfg.Egress.HTTPClient(30 * time.Second)}
	if cfg.APIURL != "" {
		u, err := url.Parse(strings.TrimSuffix(cfg.APIURL, "/") + "/")
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("github api url: %q is not an http(s) URL", cfg.APIURL)
		}
		p.api = u
	}
	return p, nil
}

// Name is the catalogue package, /whisk.system/github.
func (p *Provider) Name() string { return "github" }

// Feeds lists the feed actions.
func (p *Provider) Feeds() []string { return []string{FeedWebhook} }

// Description describes the catalogue package.
func (p *Provider) Description() string {
	return "Package which contains actions and feeds to interact with GitHub"
}

// FeedDescription describes a feed action.
func (p *Provider) FeedDescription(string) string {
	return "Creates a webhook on GitHub to be notified on selected changes (parameters: username, repository, accessToken, events)"
}

// Validate checks the parameters of a CREATE or UPDATE; the token and the
// repository are checked by GitHub in Register.
func (p *Provider) Validate(_ context.Context, _ string, params map[string]json.RawMessage) error {
	if _, err := parseParams(params); err != nil {
		return err
	}
	if p.cfg.PublicURL == "" {
		return errors.New("this server has no public URL for GitHub to post to (wisp serve --public-url)")
	}
	return nil
}

func (p *Provider) client(token string) *gh.Client {
	c := gh.NewClient(p.http).WithAuthToken(token)
	if p.api != nil {
		c.BaseURL = p.api
	}
	return c
}

// HookURL is where GitHub posts a feed's deliveries.
func (p *Provider) HookURL(id string) string {
	return p.cfg.PublicURL + feeds.HookPath(p.Name()) + id
}

// Endpoint is the feed's hook URL, as registered at GitHub.
func (p *Provider) Endpoint(reg feeds.Registration) string {
	st, err := parseState(reg.State)
	if err != nil || st == nil {
		return ""
	}
	return p.HookURL(st.ID)
}

// Register creates the repository webhook (CREATE) or changes it
// (UPDATE, same repository); a webhook moved to another repository is
// created there and removed from the old one.
func (p *Provider) Register(ctx context.Context, reg feeds.Registration) (json.RawMessage, error) {
	prm, err := parseParams(reg.Params)
	if err != nil {
		return nil, err
	}
	old, err := parseState(reg.State)
	if err != nil {
		return nil, err
	}
	c := p.client(prm.token)
	if old != nil && old.HookID != 0 && strings.EqualFold(old.Owner, prm.owner) && strings.EqualFold(old.Repo, prm.repo) {
		if _, _, err := c.Repositories.EditHook(ctx, prm.owner, prm.repo, old.HookID, p.hookOf(*old, prm)); err != nil {
			return nil, apiError("change the webhook", prm, err)
		}
		return json.Marshal(old)
	}
	st := state{ID: rand.Text(), Secret: rand.Text() + rand.Text(), Owner: prm.owner, Repo: prm.repo}
	created, _, err := c.Repositories.CreateHook(ctx, prm.owner, prm.repo, p.hookOf(st, prm))
	if err != nil {
		return nil, apiError("create the webhook", prm, err)
	}
	st.HookID = created.GetID()
	if old != nil && old.HookID != 0 {
		if err := p.deleteHook(ctx, prm.token, *old); err != nil {
			p.log.Warn("the webhook of the previous repository was not removed", "trigger", reg.Trigger, "err", err)
		}
	}
	p.log.Info("github webhook created", "trigger", reg.Trigger, "repository", prm.owner+"/"+prm.repo, "hook", st.HookID)
	return json.Marshal(st)
}

func (p *Provider) hookOf(st state, prm params) *gh.Hook {
	return &gh.Hook{
		Name:   gh.Ptr("web"),
		Active: gh.Ptr(true),
		Events: prm.events,
		Config: &gh.HookConfig{
			URL: gh.Ptr(p.HookURL(st.ID)), ContentType: gh.Ptr("json"),
			Secret: gh.Ptr(st.Secret), InsecureSSL: gh.Ptr("0"),
		},
	}
}

// Unregister removes the repository webhook; one already gone is fine.
func (p *Provider) Unregister(ctx context.Context, reg feeds.Registration) error {
	st, err := parseState(reg.State)
	if err != nil || st == nil || st.HookID == 0 {
		return err
	}
	prm, err := parseParams(reg.Params)
	if err != nil {
		return err
	}
	return p.deleteHook(ctx, prm.token, *st)
}

func (p *Provider) deleteHook(ctx context.Context, token string, st state) error {
	resp, err := p.client(token).Repositories.DeleteHook(ctx, st.Owner, st.Repo, st.HookID)
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return apiError("delete the webhook", params{owner: st.Owner, repo: st.Repo}, err)
	}
	return nil
}

// apiError names the parameter GitHub's answer points at; it never
// repeats the token. A connection the egress policy refused says only the
// policy's message; a failure without GitHub's answer, egress.Explain's.
func apiError(op string, prm params, err error) error {
	repo := prm.owner + "/" + prm.repo
	var denied *egress.DeniedError
	if errors.As(err, &denied) {
		return denied
	}
	var ge *gh.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		switch ge.Response.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("accessToken: GitHub refused the token (401) to %s of %s", op, repo)
		case http.StatusForbidden:
			return fmt.Errorf("accessToken: the token may not manage the webhooks of %s (403: %s)", repo, ge.Message)
		case http.StatusNotFound:
			return fmt.Errorf("repository: %s not found, or the token cannot see its webhooks (404)", repo)
		case http.StatusUnprocessableEntity:
			return fmt.Errorf("events: GitHub refused the webhook of %s (422: %s)", repo, ge.Message)
		}
		return fmt.Errorf("%s of %s: GitHub answered %d: %s", op, repo, ge.Response.StatusCode, ge.Message)
	}
	return fmt.Errorf("%s of %s: GitHub API: %s", op, repo, egress.Explain(err))
}

// Start serves the feed's hook URL until the Feed stops.
func (p *Provider) Start(_ context.Context, reg feeds.Registration, sink feeds.Sink) (feeds.Feed, error) {
	prm, err := parseParams(reg.Params)
	if err != nil {
		return nil, err
	}
	st, err := parseState(reg.State)
	if err != nil {
		return nil, err
	}
	if st == nil || st.ID == "" || st.Secret == "" {
		return nil, fmt.Errorf("the registration of %s has no webhook; create the feed again", reg.Trigger)
	}
	deliveries, err := hookfeed.NewDeliveries(sink, p.cfg.RecentDeliveries, reg.Cursor)
	if err != nil {
		p.log.Warn("starting with no recent deliveries", "trigger", reg.Trigger, "err", err)
	}
	h := &hook{id: st.ID, trigger: reg.Trigger, secret: []byte(st.Secret), events: map[string]bool{}, deliveries: deliveries}
	for _, e := range prm.events {
		h.events[e] = true
	}
	f, err := p.hooks.Run(st.ID, h)
	if err != nil {
		return nil, fmt.Errorf("the webhook of %s: %w", reg.Trigger, err)
	}
	return f, nil
}

func (p *Provider) lookup(id string) *hook { return p.hooks.Lookup(id) }
