package mqtt

import "github.com/wispio/wisp/feeds"

// init registers the MQTT connector (/whisk.system/mqtt) with the default
// timeouts; its broker connections pass the server's egress policy.
func init() {
	feeds.Register(feeds.Info{
		Name: ProviderName,
		New: func(env feeds.Env) (feeds.Provider, error) {
			cfg := DefaultConfig()
			cfg.Egress = env.Egress
			return New(cfg, env.Log), nil
		},
	})
}
