package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

func (a *app) activationPollCmd() *cobra.Command {
	var f struct{ exit, seconds, minutes, hours, days int }
	cmd := a.leaf(&cobra.Command{Use: "poll [ NAMESPACE | ACTION_NAME ]", Short: "poll continuously for log messages from currently running actions"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 1, "An optional namespace is the only valid argument."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			var ns, name string
			if len(args) == 1 {
				if ns, name, err = nameFilter(c, args[0]); err != nil {
					return err
				}
			}
			if f.exit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(f.exit)*time.Second)
				defer cancel()
			}
			fmt.Fprintln(a.out, "Enter Ctrl-c to exit.")
			lookBack := time.Duration(f.seconds)*time.Second + time.Duration(f.minutes)*time.Minute +
				time.Duration(f.hours)*time.Hour + time.Duration(f.days)*24*time.Hour
			since := a.pollStart(ctx, c, ns, lookBack)
			fmt.Fprintln(a.out, "Polling for activation logs")
			return a.poll(ctx, c, client.ActivationListOptions{Namespace: ns, Name: name, Since: since, Docs: true})
		})
	fl := cmd.Flags()
	fl.IntVarP(&f.exit, "exit", "e", 0, "stop polling after `SECONDS` seconds")
	fl.IntVar(&f.seconds, "since-seconds", 0, "start polling for activations `SECONDS` seconds ago")
	fl.IntVar(&f.minutes, "since-minutes", 0, "start polling for activations `MINUTES` minutes ago")
	fl.IntVar(&f.hours, "since-hours", 0, "start polling for activations `HOURS` hours ago")
	fl.IntVar(&f.days, "since-days", 0, "start polling for activations `DAYS` days ago")
	return cmd
}

// pollStart is where polling begins (milliseconds since the epoch): lookBack
// before now, or just after the newest activation there is, like wsk.
func (a *app) pollStart(ctx context.Context, c *client.Client, ns string, lookBack time.Duration) int64 {
	if lookBack > 0 {
		return time.Now().Add(-lookBack).UnixMilli()
	}
	list, _, err := c.ListActivations(ctx, client.ActivationListOptions{Namespace: ns, Limit: 1, Docs: true})
	switch {
	case err != nil:
		return time.Now().UnixMilli()
	case len(list) > 0:
		return list[0].Start + 1
	}
	return 0
}

// poll lists activations since opts.Since every pollInterval and prints the
// logs of each one not yet printed, oldest first, until ctx ends. Transient
// failures are retried; a refusal (401, 403, 404) ends polling.
func (a *app) poll(ctx context.Context, c *client.Client, opts client.ActivationListOptions) error {
	reported := map[string]int64{} // activation id → start, pruned as opts.Since moves
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		list, _, err := c.ListActivations(ctx, opts)
		if ctx.Err() != nil {
			return nil
		}
		if fatalPollError(err) {
			return err
		}
		for i := len(list) - 1; i >= 0; i-- {
			act := list[i]
			if _, seen := reported[act.ActivationID]; seen {
				continue
			}
			reported[act.ActivationID] = act.Start
			logs := act.Logs
			if logs == nil {
				logs = []string{}
			}
			data, _ := json.Marshal(logs) // a []string always marshals
			fmt.Fprintf(a.out, "\nActivation: '%s' (%s)\n", act.Name, act.ActivationID)
			a.printJSON(data)
			opts.Since = max(opts.Since, act.Start)
		}
		for id, start := range reported {
			if start < opts.Since {
				delete(reported, id)
			}
		}
		timer.Reset(a.pollInterval)
	}
}

func fatalPollError(err error) bool {
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}
