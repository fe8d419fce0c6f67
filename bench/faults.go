package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/wispio/wisp/test/chaos"
)

// runFaults runs the fault harness (test/chaos) in its full form: each run
// 2,000 non-blocking invokes, 500 trigger fires and 200 non-blocking
// invokes of a sequence from 50 callers and,
// with a broker, 1,000 QoS 1 MQTT messages to a feed; the server is
// SIGKILLed at 40 % and restarted on the same data folder. bin is the wisp
// binary to test ("" builds this tree's).
func runFaults(ctx context.Context, runs int, bin, mqttURL string, out io.Writer) error {
	dir, err := os.MkdirTemp("", "wisp-faults-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "wisp")
		if b, err := exec.Command("go", "build", "-o", bin, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
			return fmt.Errorf("build wisp: %v\n%s", err, b)
		}
	}
	messages := 1000
	if mqttURL == "" {
		messages = 0
		fmt.Fprintln(out, "no -mqtt broker: the MQTT part is skipped")
	}
	lost := false
	for run := 1; run <= runs; run++ {
		table, err := chaos.Run(ctx, chaos.Config{
			Bin: bin, Dir: filepath.Join(dir, fmt.Sprint("run", run)),
			Invokes: 2000, Fires: 500, Sequences: 200, Callers: 50, KillAt: 0.4,
			MQTTURL: mqttURL, MQTTMessages: messages, Settle: 2 * time.Minute,
		})
		if err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		fmt.Fprintf(out, "run %d of %d (SIGKILL at 40 %%, restart on the same data folder):\n%s\n", run, runs, table)
		lost = lost || table.Lost()
	}
	if lost {
		return fmt.Errorf("accepted work has no record, or more than one")
	}
	return nil
}
