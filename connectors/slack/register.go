package slack

import "github.com/wispio/wisp/feeds"

// APIURLSetting is the operator setting (feeds.Env.Settings, the
// `wisp serve --slack-api-url` flag) of the Slack Web API base; empty
// means https://slack.com/api/.
const APIURLSetting = "slack-api-url"

// init registers the Slack connector (/whisk.system/slack): hooks under
// the server's public URL, outbound calls through its egress policy.
func init() {
	feeds.Register(feeds.Info{
		Name: "slack",
		New: func(env feeds.Env) (feeds.Provider, error) {
			return New(Config{APIURL: env.Settings[APIURLSetting], PublicURL: env.PublicURL, Egress: env.Egress}, env.Log)
		},
	})
}
