package server

import (
	"slices"
	"testing"

	_ "github.com/wispio/wisp/connectors/all" // the shipped connectors, as cmd/wisp runs them
	"github.com/wispio/wisp/feeds"
)

// TestRegistryShipsConnectors checks that connectors/all registers every
// connector Wisp ships, and that each makes its provider from a server's
// Env (the settings as `wisp serve` passes them).
func TestRegistryShipsConnectors(t *testing.T) {
	var names []string
	for _, info := range feeds.Registered() {
		names = append(names, info.Name)
	}
	want := []string{"alarms", "couchdb", "github", "mqtt", "nats", "slack"}
	if !slices.Equal(names, want) {
		t.Fatalf("registered connectors %v, want %v", names, want)
	}
	settings := map[string]string{"github-api-url": "http://127.0.0.1:1/api/v3/", "slack-api-url": "http://127.0.0.1:1/api/"}
	providers, err := feedProviders(ConnectorsConfig{Settings: settings}, "http://127.0.0.1:1", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(providers) != len(want) {
		t.Fatalf("%d providers, want %d", len(providers), len(want))
	}
	settings["github-api-url"] = "ftp://nowhere"
	if _, err := feedProviders(ConnectorsConfig{Settings: settings}, "http://127.0.0.1:1", nil, nil); err == nil {
		t.Fatal("a github-api-url that is not http(s) was accepted")
	}
}
