package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

func (a *app) actionCmd() *cobra.Command {
	return a.group("action", "work with actions",
		a.actionPutCmd(false), a.actionPutCmd(true), a.actionInvokeCmd(),
		a.actionGetCmd(), a.actionDeleteCmd(), a.actionListCmd())
}

// actionPutCmd is "action create" or, with update, "action update".
func (a *app) actionPutCmd(update bool) *cobra.Command {
	f := &actionFlags{}
	wf := &webFlags{}
	cmd := &cobra.Command{Use: "create ACTION_NAME ACTION", Short: "create a new action", DisableFlagParsing: true}
	required, done := "An action name and code artifact are required.", "created"
	if update {
		cmd.Use, cmd.Short = "update ACTION_NAME [ACTION]", "update an existing action, or create an action if it does not exist"
		required, done = "An action name is required. A code artifact is optional.", "updated"
	}
	f.register(cmd)
	wf.register(cmd)
	return a.leaf(cmd, func(ctx context.Context, cmd *cobra.Command, args []string) error {
		pos, pairs, err := parseFlags(cmd, args)
		if err != nil {
			return err
		}
		if err := checkArgs(pos, 1, 2, required); err != nil {
			return err
		}
		c, s, err := a.client()
		if err != nil {
			return err
		}
		qn, err := c.ParseName(pos[0])
		if err != nil {
			return usageError{err.Error()}
		}
		artifact := ""
		if len(pos) == 2 {
			artifact = pos[1]
		}
		action := &client.Action{Namespace: qn.Namespace, Name: qn.Entity(), Limits: f.limits(cmd)}
		if action.Exec, err = f.exec(artifact, update, s.Namespace); err != nil {
			return err
		}
		params, err := a.collect(f.paramFile, pairs[paramFlag])
		if err != nil {
			return err
		}
		annotations, err := a.collect(f.annotations, pairs[annotationFlag])
		if err != nil {
			return err
		}
		action.Parameters, action.Annotations = params.list(), annotations.list()
		if wf.set(cmd) {
			var existing client.KeyValues
			if update {
				if existing, err = currentAnnotations(ctx, c, qn.String()); err != nil {
					return err
				}
			}
			if action.Annotations, err = wf.annotations(cmd, existing, annotations); err != nil {
				return err
			}
		}
		_, resp, err := c.PutAction(ctx, action, update)
		if err != nil {
			return err
		}
		if a.json {
			a.printRaw(resp)
			return nil
		}
		fmt.Fprintf(a.out, "ok: %s action %s\n", done, qn.Entity())
		return nil
	})
}

func (a *app) actionGetCmd() *cobra.Command {
	var f struct {
		summary, url, save bool
		saveAs             string
	}
	cmd := a.leaf(&cobra.Command{Use: "get ACTION_NAME [--summary | --url | --save | --save-as FILE]", Short: "get action"},
		func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 1, "An action name is required."); err != nil {
				return err
			}
			c, qn, err := a.clientFor(args[0])
			if err != nil {
				return err
			}
			act, resp, err := c.GetAction(ctx, qn.String(), f.save || f.saveAs != "")
			if err != nil {
				return err
			}
			switch {
			case f.save || f.saveAs != "":
				path, err := saveCode(act, f.saveAs)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.out, "ok: saved action code to %s\n", path)
			case a.json:
				a.printRaw(resp)
			case f.url:
				return a.printActionURL(c, qn, act)
			case f.summary:
				a.printActionSummary(act)
			default:
				fmt.Fprintf(a.out, "ok: got action %s\n", qn.Entity())
				a.printJSON(resp.Body)
			}
			return nil
		})
	fl := cmd.Flags()
	fl.BoolVarP(&f.summary, "summary", "s", false, `summarize action details; parameters with prefix "*" are bound, "**" are bound and finalized`)
	fl.BoolVarP(&f.url, "url", "r", false, "get action url")
	fl.BoolVar(&f.save, "save", false, "save action code to file corresponding with action name")
	fl.StringVar(&f.saveAs, "save-as", "", "`FILE` to save action code to")
	return cmd
}

// printActionURL prints where the action answers: its web URL when it is a
// web action, else its REST URL, in the namespace the server reported.
func (a *app) printActionURL(c *client.Client, qn client.QualifiedName, act *client.Action) error {
	if ns, _, _ := strings.Cut(act.Namespace, "/"); ns != "" {
		qn.Namespace = ns
	}
	web, _ := act.Annotations.Get("web-export").(bool)
	u, err := c.ActionURL(qn, web)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "ok: got action %s\n%s\n", qn.Entity(), u)
	return nil
}

func (a *app) actionDeleteCmd() *cobra.Command {
	return a.leaf(&cobra.Command{Use: "delete ACTION_NAME", Short: "delete action"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 1, "An action name is required."); err != nil {
				return err
			}
			c, qn, err := a.clientFor(args[0])
			if err != nil {
				return err
			}
			resp, err := c.DeleteAction(ctx, qn.String())
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			fmt.Fprintf(a.out, "ok: deleted action %s\n", qn.Entity())
			return nil
		})
}

func (a *app) actionListCmd() *cobra.Command {
	var f struct {
		limit, skip int
		nameSort    bool
	}
	cmd := a.leaf(&cobra.Command{Use: "list [ NAMESPACE | PACKAGE_NAME ]", Short: "list all actions in a namespace or actions contained in a package"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 1, "An optional namespace is the only valid argument."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			opts := client.ActionListOptions{Limit: f.limit, Skip: f.skip}
			if len(args) == 1 {
				if opts.Namespace, opts.Package, err = splitCollection(args[0]); err != nil {
					return err
				}
			}
			actions, resp, err := c.ListActions(ctx, opts)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			a.printActionList(actions, f.nameSort)
			return nil
		})
	fl := cmd.Flags()
	fl.IntVarP(&f.skip, "skip", "s", 0, "exclude the first `SKIP` number of actions from the result")
	fl.IntVarP(&f.limit, "limit", "l", 30, "only return `LIMIT` number of actions from the collection")
	fl.BoolVarP(&f.nameSort, "name-sort", "n", false, "sorts a list alphabetically by entity name; only applicable within the limit/skip returned entity block")
	return cmd
}

// splitCollection reads the argument of a list command: "/ns", "/ns/pkg" or
// "pkg" (in the default namespace).
func splitCollection(arg string) (namespace, pkg string, err error) {
	parts := strings.Split(strings.TrimPrefix(arg, "/"), "/")
	switch {
	case strings.HasPrefix(arg, "/") && len(parts) == 1 && parts[0] != "":
		return parts[0], "", nil
	case strings.HasPrefix(arg, "/") && len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	case !strings.HasPrefix(arg, "/") && len(parts) == 1 && parts[0] != "":
		return "", parts[0], nil
	}
	return "", "", usageError{fmt.Sprintf("'%s' is not a valid namespace or package name", arg)}
}

func (a *app) actionInvokeCmd() *cobra.Command {
	var f struct {
		blocking, result bool
		paramFile        string
	}
	cmd := &cobra.Command{Use: "invoke ACTION_NAME", Short: "invoke action", DisableFlagParsing: true}
	fl := cmd.Flags()
	fl.StringVarP(&f.paramFile, "param-file", "P", "", "`FILE` containing parameter values in JSON format")
	fl.BoolVarP(&f.blocking, "blocking", "b", false, "blocking invoke")
	fl.BoolVarP(&f.result, "result", "r", false, "blocking invoke; show only activation result (unless there is a failure)")
	addPairFlags(cmd, false)
	return a.leaf(cmd, func(ctx context.Context, cmd *cobra.Command, args []string) error {
		pos, pairs, err := parseFlags(cmd, args)
		if err != nil {
			return err
		}
		if err := checkArgs(pos, 1, 1, "An action name is required."); err != nil {
			return err
		}
		c, qn, err := a.clientFor(pos[0])
		if err != nil {
			return err
		}
		params, err := a.collect(f.paramFile, pairs[paramFlag])
		if err != nil {
			return err
		}
		blocking := f.blocking || f.result
		inv, resp, err := c.InvokeAction(ctx, qn.String(), params.object(), blocking, f.result)
		return a.printInvocation(qn, blocking, f.result, inv, resp, err)
	})
}

// printInvocation reports an invoke the way wsk does: the header line (unless
// only the result was asked for), then for blocking calls the JSON returned.
// An action that failed, and a blocking call that outlived the server's wait,
// are reported on stderr and end the command with an error.
func (a *app) printInvocation(qn client.QualifiedName, blocking, resultOnly bool, inv *client.Invocation, resp *client.Response, err error) error {
	if err != nil && inv == nil {
		return err
	}
	header := fmt.Sprintf("ok: invoked /%s/%s with id %s\n", qn.Namespace, qn.Entity(), inv.ActivationID)
	switch {
	case err != nil: // the action ran and failed; the client returned what it said
		if a.json {
			a.printRaw(resp)
		} else {
			if !resultOnly {
				fmt.Fprint(a.errOut, header)
			}
			writeJSON(a.errOut, resp.Body)
		}
		return reportedError{err}
	case blocking && inv.Accepted:
		if a.json {
			a.printRaw(resp)
		} else {
			fmt.Fprintf(a.errOut, "ok: invoked /%s/%s, but the request has not yet finished, with id %s\n", qn.Namespace, qn.Entity(), inv.ActivationID)
		}
		return reportedError{fmt.Errorf("activation %s has not yet finished", inv.ActivationID)}
	case a.json:
		a.printRaw(resp)
	case !blocking:
		fmt.Fprint(a.out, header)
	default:
		if !resultOnly {
			fmt.Fprint(a.out, header)
		}
		a.printJSON(resp.Body)
	}
	return nil
}
