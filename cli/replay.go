package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// triggerReplayCmd is "trigger replay T --since TIME [--until TIME]
// [--rule R]": the archived events fired again (README: "Archive and
// replay").
func (a *app) triggerReplayCmd() *cobra.Command {
	var r client.Replay
	cmd := &cobra.Command{Use: "replay TRIGGER_NAME --since TIME", Short: "fire a trigger's archived events again"}
	fl := cmd.Flags()
	fl.StringVar(&r.Since, "since", "", "replay the events fired from `TIME` on (2026-12-01T00:00Z, RFC 3339 or a date)")
	fl.StringVar(&r.Until, "until", "", "replay the events fired up to `TIME` (default now)")
	fl.StringVar(&r.Rule, "rule", "", "replay to `RULE` only (default every active rule of the trigger)")
	return a.leaf(cmd, func(ctx context.Context, _ *cobra.Command, args []string) error {
		if err := checkArgs(args, 1, 1, "A trigger name is required."); err != nil {
			return err
		}
		if r.Since == "" {
			return usageError{"--since is required."}
		}
		c, qn, err := a.clientFor(args[0])
		if err != nil {
			return err
		}
		res, resp, err := c.ReplayTrigger(ctx, qn.String(), r)
		if err != nil {
			return err
		}
		if a.json {
			a.printRaw(resp)
			return nil
		}
		failed := 0
		for _, act := range res.Activations {
			if act.Error != "" {
				failed++
				fmt.Fprintf(a.out, "error: %s for %s: %s\n", act.Rule, act.Cause, act.Error)
			}
		}
		fmt.Fprintf(a.out, "ok: replayed %d events of /%s/%s: %d activations started, %d failed\n", res.Events, qn.Namespace, qn.Entity(), len(res.Activations)-failed, failed)
		return nil
	})
}
