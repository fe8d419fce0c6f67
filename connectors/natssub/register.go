package natssub

import "github.com/wispio/wisp/feeds"

// init registers the connector; a binary ships it by importing the
// package (cmd/wisp does, through connectors/all).
func init() {
	feeds.Register(feeds.Info{Name: ProviderName, New: func(env feeds.Env) (feeds.Provider, error) {
		cfg := DefaultConfig()
		cfg.Egress = env.Egress
		return New(cfg, env.Log), nil
	}})
}
