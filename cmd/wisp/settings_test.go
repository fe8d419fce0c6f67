package main

import "testing"

// The connector flags of wisp serve land in the connectors' settings by
// their own names (what feeds.Env.Settings hands github and slack).
func TestServeConnectorSettingFlags(t *testing.T) {
	cmd := newServeCommand()
	var settings map[string]string // the one map both flags write
	for _, tt := range []struct{ flag, value string }{
		{"github-api-url", "https://ghe.example.com/api/v3/"},
		{"slack-api-url", "https://slack.example.com/api/"},
	} {
		if err := cmd.Flags().Parse([]string{"--" + tt.flag + "=" + tt.value}); err != nil {
			t.Fatal(err)
		}
		f := cmd.Flags().Lookup(tt.flag)
		if f == nil {
			t.Fatalf("no --%s flag", tt.flag)
		}
		s, ok := f.Value.(settingFlag)
		if !ok || s.name != tt.flag || s.settings[tt.flag] != tt.value {
			t.Fatalf("--%s=%s set %#v, want settings[%q] = %q", tt.flag, tt.value, f.Value, tt.flag, tt.value)
		}
		settings = s.settings
	}
	if len(settings) != 2 {
		t.Fatalf("settings %v, want both flags in one map", settings)
	}
}
