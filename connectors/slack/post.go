package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/wispio/wisp/actions/builtin"
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
		if err := slack.PostWebhookCustomHTTPContext(ctx, prm.URL, p.cfg.HTTPClient, msg); err != nil {
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
			return nil, builtin.Errorf("token: chat.postMessage to %s failed: %s", prm.Channel, slackError(err))
		}
		return json.Marshal(map[string]any{"ok": true, "channel": channel, "ts": ts})
	}
	return nil, builtin.Errorf("url or token: missing; an incoming webhook URL, or a bot token with channel")
}

// slackError says what failed without the URL (a webhook URL is a
// secret) or the token.
func slackError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return sc.Error()
	}
	msg := err.Error()
	if i := strings.Index(msg, "http"); i >= 0 {
		msg = msg[:i] + "(URL hidden)"
	}
	return msg
}
