package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

func (a *app) activationCmd() *cobra.Command {
	return a.group("activation", "work with activations",
		a.activationListCmd(), a.activationGetCmd(), a.activationLogsCmd(),
		a.activationResultCmd(), a.activationPollCmd())
}

func (a *app) activationListCmd() *cobra.Command {
	var f struct {
		limit, skip int
		since, upto int64
		full        bool
	}
	cmd := a.leaf(&cobra.Command{Use: "list [NAMESPACE or NAME]", Short: "list activations"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 1, "An optional namespace is the only valid argument."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			opts := client.ActivationListOptions{Limit: f.limit, Skip: f.skip, Since: f.since, Upto: f.upto, Docs: f.full}
			if len(args) == 1 {
				if opts.Namespace, opts.Name, err = nameFilter(c, args[0]); err != nil {
					return err
				}
			}
			list, resp, err := c.ListActivations(ctx, opts)
			switch {
			case err != nil:
				return err
			case a.json:
				a.printRaw(resp)
			case f.full:
				return a.printFullActivations(resp.Body)
			default:
				a.printActivationList(list)
			}
			return nil
		})
	fl := cmd.Flags()
	fl.IntVarP(&f.skip, "skip", "s", 0, "exclude the first `SKIP` number of activations from the result")
	fl.IntVarP(&f.limit, "limit", "l", 30, "only return `LIMIT` number of activations from the collection with a maximum LIMIT of 200 activations")
	fl.BoolVarP(&f.full, "full", "f", false, "include full activation description")
	fl.Int64Var(&f.upto, "upto", 0, "return activations with timestamps earlier than `UPTO`; measured in milliseconds since Th, 01, Jan 1970")
	fl.Int64Var(&f.since, "since", 0, "return activations with timestamps later than `SINCE`; measured in milliseconds since Th, 01, Jan 1970")
	return cmd
}

// nameFilter reads the NAME argument of activation list and poll: "/ns" lists
// a namespace, any other name the activations of that entity.
func nameFilter(c *client.Client, arg string) (namespace, name string, err error) {
	if ns, pkg, err := splitCollection(arg); err == nil && pkg == "" {
		return ns, "", nil
	}
	qn, err := c.ParseName(arg)
	if err != nil {
		return "", "", usageError{err.Error()}
	}
	return qn.Namespace, qn.Entity(), nil
}

// printFullActivations prints wsk's --full list: a header, then each record.
func (a *app) printFullActivations(body []byte) error {
	var records []json.RawMessage
	if err := json.Unmarshal(body, &records); err != nil {
		return fmt.Errorf("decode activation list: %w", err)
	}
	fmt.Fprintln(a.out, "activations")
	for _, r := range records {
		a.printJSON(r)
	}
	return nil
}

// lastActivation resolves the ID argument, or with --last the newest
// activation's id.
func lastActivation(ctx context.Context, c *client.Client, args []string, last bool) (string, error) {
	if !last {
		if err := checkArgs(args, 1, 1, "An activation ID is required."); err != nil {
			return "", err
		}
		return args[0], nil
	}
	if err := checkArgs(args, 0, 0, "An activation ID or --last is required, not both."); err != nil {
		return "", err
	}
	list, _, err := c.ListActivations(ctx, client.ActivationListOptions{Limit: 1})
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", errors.New("activation list does not contain any activations")
	}
	return list[0].ActivationID, nil
}

func (a *app) activationGetCmd() *cobra.Command {
	var f struct{ summary, last, logs bool }
	cmd := a.leaf(&cobra.Command{Use: "get (ACTIVATION_ID | --last)", Short: "get activation"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, _, err := a.client()
			if err != nil {
				return err
			}
			id, err := lastActivation(ctx, c, args, f.last)
			if err != nil {
				return err
			}
			act, resp, err := c.GetActivation(ctx, id)
			switch {
			case err != nil:
				return err
			case a.json:
				a.printRaw(resp)
			case f.summary:
				end := time.UnixMilli(act.End).In(a.location).Format("2006-01-02 15:04:05 -0700 MST")
				fmt.Fprintf(a.out, "activation result for '/%s/%s' (%s at %s)\n", act.Namespace, act.Name, act.Response.Status, end)
				a.printJSON(act.Response.Result)
			case f.logs:
				for _, line := range act.Logs {
					fmt.Fprintln(a.out, stripLog(line))
				}
			default:
				fmt.Fprintf(a.out, "ok: got activation %s\n", id)
				a.printJSON(resp.Body)
			}
			return nil
		})
	fl := cmd.Flags()
	fl.BoolVarP(&f.summary, "summary", "s", false, "summarize activation details")
	fl.BoolVarP(&f.last, "last", "l", false, "retrieves the last activation")
	fl.BoolVarP(&f.logs, "logs", "g", false, "emit only the logs, stripped of time stamps and stream identifier")
	return cmd
}

func (a *app) activationLogsCmd() *cobra.Command {
	var f struct{ last, strip bool }
	cmd := a.leaf(&cobra.Command{Use: "logs (ACTIVATION_ID | --last)", Short: "get the logs of an activation"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, _, err := a.client()
			if err != nil {
				return err
			}
			id, err := lastActivation(ctx, c, args, f.last)
			if err != nil {
				return err
			}
			logs, resp, err := c.ActivationLogs(ctx, id)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			for _, line := range logs {
				if f.strip {
					line = stripLog(line)
				}
				fmt.Fprintln(a.out, line)
			}
			return nil
		})
	cmd.Flags().BoolVarP(&f.last, "last", "l", false, "retrieves the last activation")
	cmd.Flags().BoolVarP(&f.strip, "strip", "r", false, "strip timestamp and stream information")
	return cmd
}

func (a *app) activationResultCmd() *cobra.Command {
	var last bool
	cmd := a.leaf(&cobra.Command{Use: "result (ACTIVATION_ID | --last)", Short: "get the result of an activation"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			c, _, err := a.client()
			if err != nil {
				return err
			}
			id, err := lastActivation(ctx, c, args, last)
			if err != nil {
				return err
			}
			res, resp, err := c.ActivationResult(ctx, id)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			a.printJSON(res.Result)
			return nil
		})
	cmd.Flags().BoolVarP(&last, "last", "l", false, "retrieves the last activation")
	return cmd
}
