package couchdb

import "github.com/wispio/wisp/feeds"

// init registers the CouchDB connector (/whisk.system/couchdb); its
// connections pass the server's egress policy.
func init() {
	feeds.Register(feeds.Info{
		Name: PackageName,
		New: func(env feeds.Env) (feeds.Provider, error) {
			return New(Config{Egress: env.Egress}, env.Log), nil
		},
	})
}
