package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/wispio/wisp/feeds"
)

// FeedWebhook is the feed action, /whisk.system/github/webhook.
const FeedWebhook = "webhook"

// params are a webhook feed's parameters.
type params struct {
	owner, repo string
	token       string
	// events are GitHub event names ("push", "pull_request") or "*".
	events []string
}

var eventName = regexp.MustCompile(`^([a-z_]+|\*)$`)

// webhookParams declares the webhook feed's parameters.
func webhookParams() feeds.Params {
	return feeds.Params{
		{Name: "username", Type: feeds.TypeString, BindTime: true, Doc: "The repository's owner (or give repository as owner/name)."},
		{Name: "repository", Type: feeds.TypeString, Required: true, BindTime: true, Doc: "The repository whose events fire the trigger (name or owner/name)."},
		{Name: "accessToken", Type: feeds.TypeString, Required: true, Secret: true, BindTime: true, Doc: "A GitHub token allowed to manage the repository's webhooks (admin:repo_hook)."},
		{Name: "events", Type: feeds.TypeArray, Required: true, Doc: "GitHub event names such as push,pull_request (or *): a comma separated string or an array."},
	}
}

// Params declares the parameters of a feed (feeds.Declarer).
func (p *Provider) Params(feed string) feeds.Params {
	if feed != FeedWebhook {
		return nil
	}
	return webhookParams()
}

// checkDeclared runs the declared checks ("accessToken: missing; a GitHub
// token ...").
func checkDeclared(p map[string]json.RawMessage) error {
	decl := webhookParams()
	err := decl.Validate(p)
	var pe *feeds.ParamError
	if errors.As(err, &pe) && pe.Missing {
		prm, _ := decl.Lookup(pe.Name)
		return fmt.Errorf("%s: missing; %s", pe.Name, prm.Hint())
	}
	return err
}

// parseParams reads username, repository ("repo" or "owner/repo"),
// accessToken and events (a comma separated list or an array): the
// declared checks, then each parameter's own.
func parseParams(p map[string]json.RawMessage) (params, error) {
	var out params
	if err := checkDeclared(p); err != nil {
		return out, err
	}
	str := func(key string) (string, error) {
		raw, ok := p[key]
		if !ok {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%s: must be a string", key)
		}
		return strings.TrimSpace(s), nil
	}
	user, err := str("username")
	if err != nil {
		return out, err
	}
	repo, err := str("repository")
	if err != nil {
		return out, err
	}
	if out.token, err = str("accessToken"); err != nil {
		return out, err
	}
	if owner, name, ok := strings.Cut(repo, "/"); ok {
		out.owner, out.repo = owner, name
		if user != "" && !strings.EqualFold(user, owner) {
			return out, fmt.Errorf("repository: %q names owner %q but username is %q", repo, owner, user)
		}
	} else {
		out.owner, out.repo = user, repo
	}
	switch {
	case out.repo == "":
		return out, fmt.Errorf("repository: missing; the repository whose events fire the trigger (name or owner/name)")
	case out.owner == "":
		return out, fmt.Errorf("username: missing; the repository's owner (or give repository as owner/name)")
	case strings.ContainsAny(out.owner+out.repo, "/ ?#%"):
		return out, fmt.Errorf("repository: %q is not a repository name", repo)
	case out.token == "":
		return out, fmt.Errorf("accessToken: missing; a GitHub token allowed to manage the repository's webhooks (admin:repo_hook)")
	}
	if out.events, err = parseEvents(p["events"]); err != nil {
		return out, err
	}
	return out, nil
}

func parseEvents(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, fmt.Errorf("events: missing; GitHub event names such as push,pull_request (or *)")
	}
	var list []string
	var s string
	if json.Unmarshal(raw, &s) == nil {
		list = strings.Split(s, ",")
	} else if json.Unmarshal(raw, &list) != nil {
		return nil, fmt.Errorf("events: must be a comma separated string or an array of strings")
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range list {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		if !eventName.MatchString(e) {
			return nil, fmt.Errorf("events: %q is not a GitHub event name", e)
		}
		seen[e] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("events: empty; name at least one GitHub event (push, pull_request, ... or *)")
	}
	return out, nil
}

// state is what Register set up, kept in the registration's State.
type state struct {
	// ID is the unguessable part of the hook URL, /hooks/github/<ID>.
	ID string `json:"id"`
	// Secret signs GitHub's deliveries (X-Hub-Signature-256).
	Secret string `json:"secret"`
	// HookID is GitHub's id of the repository webhook.
	HookID int64  `json:"hookId"`
	Owner  string `json:"owner"`
	Repo   string `json:"repo"`
}

func parseState(raw json.RawMessage) (*state, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("the registration's webhook state is unreadable: %w", err)
	}
	return &st, nil
}
