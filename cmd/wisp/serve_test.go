package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestServeHelpHidesEnvSecrets: URLs from WISP_STORE and WISP_BUS carry
// passwords, as does WISP_STORE_PASSWORD; neither `wisp serve --help` nor the usage printed on a flag
// error may show them (as flag defaults or otherwise).
func TestServeHelpHidesEnvSecrets(t *testing.T) {
	t.Setenv("WISP_STORE", "couchdb://admin:storepw123@db:5984")
	t.Setenv("WISP_BUS", "nats://wisp:buspw456@nats:4222")
	t.Setenv("WISP_STORE_PASSWORD", "envstorepw789")
	for _, args := range [][]string{{"--help"}, {"--no-such-flag"}, {"--addr"}} {
		cmd := newServeCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		_ = cmd.Execute()
		if !strings.Contains(out.String(), "--store") {
			t.Fatalf("%v printed no usage: %q", args, out.String())
		}
		for _, secret := range []string{"storepw123", "buspw456", "envstorepw789", "admin:", "db:5984"} {
			if strings.Contains(out.String(), secret) {
				t.Errorf("wisp serve %v shows %q:\n%s", args, secret, out.String())
			}
		}
	}
}
