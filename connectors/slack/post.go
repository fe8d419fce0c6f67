package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/egress"
	"github.com/wispio/wisp/feeds"
)

// Actions adds post to /whisk.system/slack.
func (p *Provider) Actions() []feeds.Action {
	return []feeds.Action{{
		Name:        "post",
		Description: "Post a message to Slack: text with url (an incoming webhook) or with token and channel (chat.postMessage); optional thread_ts",
		Func:        p.post,
	}}
}

// postParams are post's parameters; url and token are secrets.
type postParams struct {
	URL      string `json:"url"`
	Token    string `json:"token"`
	Channel  string `json:"channel"`
	Text     string `json:"text"`
	ThreadTS string `json:"thread_ts"`
}

// post sends a message and answers {"ok": true, "channel", "ts"}.
func (p *Provider) post(ctx context.Context, call builtin.Call) (json.RawMessage, error) {
	var prm postParams
	var fields map[string]json.RawMessage
	if json.Unmarshal(call.Params, &fields) != nil {
		return nil, builtin.Errorf("parameters: not a JSON object")
	}
	for _, k := range []string{"url", "token", "channel", "text", "thread_ts"} {
		if raw, ok := fields[k]; ok {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return nil, builtin.Errorf("%s: must be a string", k)
			}
		}
	}
	_ = json.Unmarshal(call.Params, &prm)
	if strings.TrimSpace(prm.Text) == "" {
		return nil, builtin.Errorf("text: missing; the message to post")
	}
	switch {
	case prm.URL != "":
		u, err := url.Parse(prm.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, builtin.Errorf("url: not an incoming webhook URL (https://hooks.slack.com/services/...)")
		}
		msg := &slack.WebhookMessage{Text: prm.Text, Channel: prm.Channel, ThreadTimestamp: prm.ThreadTS}
		if err := slack.PostWebhookCustomHTTPContext(ctx, prm.URL, p.http, msg); err != nil {
			if d := deniedError(err); d != nil {
				return nil, d
			}
			return nil, builtin.Errorf("url: the incoming webhook refused the message: %s", slackError(err))
		}
		return json.Marshal(map[string]any{"ok": true})
	case prm.Token != "":
		if prm.Channel == "" {
			return nil, builtin.Errorf("channel: missing; the channel id to post to (with token)")
		}
		opts := []slack.MsgOption{slack.MsgOptionText(prm.Text, false)}
		if prm.ThreadTS != "" {
			opts = append(opts, slack.MsgOptionTS(prm.ThreadTS))
		}
		channel, ts, err := p.api(prm.Token).PostMessageContext(ctx, prm.Channel, opts...)
		if err != nil {
			if d := deniedError(err); d != nil {
				return nil, d
			}
			return nil, builtin.Errorf("token: chat.postMessage to %s failed: %s", prm.Channel, slackError(err))
		}
		return json.Marshal(map[string]any{"ok": true, "channel": channel, "ts": ts})
	}
	return nil, builtin.Errorf("url or token: missing; an incoming webhook URL, or a bot token with channel")
}

// slackCode is the shape of Slack's error codes ("channel_not_found"):
// an "error" field of another shape is not repeated.
var slackCode = regexp.MustCompile(`^[a-z0-9_.]{1,64}$`)

// slackError says what failed without the URL (a webhook URL is a
// secret), the token, or text the far end chose (a webhook URL is the
// tenant's choice: its status line or body would make the error an
// oracle): a denial is the egress policy's message, an HTTP failure its
// status code, a Slack API refusal its error code.
func slackError(err error) string {
	var denied *egress.DeniedError
	var se slack.SlackErrorResponse
	var sc slack.StatusCodeError
	var rl *slack.RateLimitedError
	var ue *url.Error
	switch {
	case errors.As(err, &denied):
		return denied.Error()
	case errors.As(err, &se):
		if slackCode.MatchString(se.Err) {
			return se.Err
		}
		return "refused"
	case errors.As(err, &sc):
		return fmt.Sprintf("HTTP status %d", sc.Code)
	case errors.As(err, &rl):
		return fmt.Sprintf("rate limited, retry after %s", rl.RetryAfter)
	case errors.As(err, &ue):
		return egress.Explain(ue.Err)
	}
	return egress.Explain(err)
}

// deniedError is the policy's error when it refused err's connection,
// nil otherwise: such an error says only the policy's message.
func deniedError(err error) error {
	var denied *egress.DeniedError
	if errors.As(err, &denied) {
		return denied
	}
	return nil
}
