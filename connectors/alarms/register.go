package alarms

import "github.com/wispio/wisp/feeds"

// init registers the alarms connector (/whisk.system/alarms) with the
// system clock.
func init() {
	feeds.Register(feeds.Info{
		Name: "alarms",
		New: func(env feeds.Env) (feeds.Provider, error) {
			return New(Config{}, env.Log), nil
		},
	})
}
