package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// triggerReplayCmd is "trigger replay T --since TIME [--until TIME]
// [--rule R] [--limit N]": the archived events fired again (README:
// "Archive and replay"), N a call, following each answer's "next" until
// the window is done.
func (a *app) triggerReplayCmd() *cobra.Command {
	var r client.Replay
	cmd := &cobra.Command{Use: "replay TRIGGER_NAME --since TIME", Short: "fire a trigger's archived events again"}
	fl := cmd.Flags()
	fl.StringVar(&r.Since, "since", "", "replay the events fired from `TIME` on (2026-12-01T00:00Z, RFC 3339 or a date)")
	fl.StringVar(&r.Until, "until", "", "replay the events fired up to `TIME` (default now)")
	fl.StringVar(&r.Rule, "rule", "", "replay to `RULE` only (default every active rule of the trigger)")
	fl.IntVar(&r.Limit, "limit", 0, "replay `N` events a request (default the server's, 100)")
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
		events, started, failed := 0, 0, 0
		for {
			res, resp, err := c.ReplayTrigger(ctx, qn.String(), r)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
			}
			events += res.Events
			for _, act := range res.Activations {
				if act.Error == "" {
					started++
					continue
				}
				failed++
				if !a.json {
					fmt.Fprintf(a.out, "error: %s for %s: %s\n", act.Rule, act.Cause, act.Error)
				}
			}
			if res.Next == "" {
				break
			}
			r.Since, r.Continue = "", res.Next
		}
		if !a.json {
			fmt.Fprintf(a.out, "ok: replayed %d events of /%s/%s: %d activations started, %d failed\n", events, qn.Namespace, qn.Entity(), started, failed)
		}
		return nil
	})
}
