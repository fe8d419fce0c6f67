package github

import "github.com/wispio/wisp/feeds"

// APIURLSetting is the operator setting (feeds.Env.Settings, the
// `wisp serve --github-api-url` flag) of the GitHub REST API base; empty
// means https://api.github.com/.
const APIURLSetting = "github-api-url"

// init registers the GitHub connector (/whisk.system/github): hooks under
// the server's public URL, API calls through its egress policy.
func init() {
	feeds.Register(feeds.Info{
		Name: "github",
		New: func(env feeds.Env) (feeds.Provider, error) {
			return New(Config{APIURL: env.Settings[APIURLSetting], PublicURL: env.PublicURL, Egress: env.Egress}, env.Log)
		},
	})
}
