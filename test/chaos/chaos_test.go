package chaos

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wispio/wisp/internal/testenv"
)

// TestKillLosesNothing is the harness's short form: three runs, each with
// non-blocking invokes and trigger fires from 50 callers and QoS 1 MQTT
// messages to a feed, the server SIGKILLed at 40 % and restarted on the
// same data folder. Every accepted invoke, fire, rule activation and
// acknowledged message must have exactly one record.
func TestKillLosesNothing(t *testing.T) {
	testenv.Node(t)
	broker := testenv.Mosquitto(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "wisp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wisp")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build wisp: %v\n%s", err, out)
	}
	invokes, fires, sequences, messages := 600, 150, 60, 300
	if testing.Short() {
		invokes, fires, sequences, messages = 200, 50, 20, 100
	}
	for run := 1; run <= 3; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		table, err := Run(ctx, Config{
			Bin: bin, Dir: filepath.Join(dir, "run"+string(rune('0'+run))),
			Invokes: invokes, Fires: fires, Sequences: sequences, Callers: 50, KillAt: 0.4,
			MQTTURL: broker, MQTTMessages: messages,
			Settle: 2 * time.Minute,
			Logf:   t.Logf,
		})
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		t.Logf("run %d:\n%s", run, table)
		for _, r := range table.Rows {
			if r.Missing > 0 || r.Duplicated > 0 {
				t.Errorf("run %d: %s: %d missing, %d duplicated (e.g. %v)", run, r.What, r.Missing, r.Duplicated, r.Examples)
			}
			if r.Accepted == 0 {
				t.Errorf("run %d: %s: nothing accepted", run, r.What)
			}
		}
	}
}
