package server

import (
	"log/slog"

	"github.com/wispio/wisp/connectors/alarms"
	"github.com/wispio/wisp/connectors/couchdb"
	"github.com/wispio/wisp/connectors/mqtt"
	"github.com/wispio/wisp/feeds"
)

// feedProviders lists the feed providers this server runs; each becomes a
// catalogue package /whisk.system/<name> with its feed actions. Add a
// connector (mqtt, couchdb...) here.
func feedProviders(log *slog.Logger) []feeds.Provider {
	return []feeds.Provider{
		alarms.New(alarms.Config{}, log.With("provider", "alarms")),
		mqtt.New(mqtt.DefaultConfig(), log.With("provider", "mqtt")),
		couchdb.New(couchdb.Config{}, log.With("provider", "couchdb")),
	}
}
