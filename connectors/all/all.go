// Package all imports the connectors Wisp ships, for their registration
// with package feeds (each registers itself in an init function). A binary
// or test that starts a server with feeds imports it for its side effect:
//
//	import _ "github.com/wispio/wisp/connectors/all"
//
// A new connector adds its blank import here; nothing else names it.
package all

import (
	_ "github.com/wispio/wisp/connectors/alarms"
	_ "github.com/wispio/wisp/connectors/couchdb"
	_ "github.com/wispio/wisp/connectors/github"
	_ "github.com/wispio/wisp/connectors/mqtt"
	_ "github.com/wispio/wisp/connectors/natssub"
	_ "github.com/wispio/wisp/connectors/slack"
)
