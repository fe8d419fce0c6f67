package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

func (a *app) triggerCmd() *cobra.Command {
	return a.group("trigger", "work with triggers",
		a.entityPutCmd(client.Triggers, "trigger", false), a.entityPutCmd(client.Triggers, "trigger", true),
		a.triggerFireCmd(), a.triggerReplayCmd(),
		a.entityGetCmd(client.Triggers, "trigger", a.printTriggerFeed), a.entityDeleteCmd(client.Triggers, "trigger", a.deleteTriggerFeed),
		a.entityListCmd(client.Triggers, "triggers"))
}

func (a *app) ruleCmd() *cobra.Command {
	return a.group("rule", "work with rules",
		a.rulePutCmd(false), a.rulePutCmd(true), a.ruleStatusCmd("enable", "active"), a.ruleStatusCmd("disable", "inactive"),
		a.entityGetCmd(client.Rules, "rule", nil), a.entityDeleteCmd(client.Rules, "rule", nil),
		a.entityListCmd(client.Rules, "rules"))
}

func (a *app) packageCmd() *cobra.Command {
	return a.group("package", "work with packages",
		a.entityPutCmd(client.Packages, "package", false), a.entityPutCmd(client.Packages, "package", true),
		a.packageBindCmd(),
		a.entityGetCmd(client.Packages, "package", nil), a.entityDeleteCmd(client.Packages, "package", nil),
		a.entityListCmd(client.Packages, "packages"))
}

// entityFlags are the flags of trigger and package create/update.
type entityFlags struct {
	paramFile, annotationFile, feed, shared string
	// archiveDays is a trigger's --archive-days, sent when archiveSet.
	archiveDays int
	archiveSet  bool
}

// entityPutCmd is "create" or "update" of a trigger or a package.
func (a *app) entityPutCmd(collection, noun string, update bool) *cobra.Command {
	f := &entityFlags{}
	verb, done := "create", "created"
	if update {
		verb, done = "update", "updated"
	}
	cmd := &cobra.Command{Use: verb + " " + strings.ToUpper(noun) + "_NAME", Short: verb + " a " + noun, DisableFlagParsing: true}
	fl := cmd.Flags()
	fl.StringVarP(&f.paramFile, "param-file", "P", "", "`FILE` containing parameter values in JSON format")
	fl.StringVarP(&f.annotationFile, "annotation-file", "A", "", "`FILE` containing annotation values in JSON format")
	if collection == client.Triggers {
		fl.StringVarP(&f.feed, "feed", "f", "", "trigger feed `ACTION_NAME` (stored as the feed annotation)")
		fl.IntVar(&f.archiveDays, "archive-days", 0, "keep the fired events `N` days for replay (0 turns the archive off)")
	} else {
		fl.StringVar(&f.shared, "shared", "", "package visibility `SCOPE`; yes = shared, no = private")
	}
	addPairFlags(cmd, true)
	return a.leaf(cmd, func(ctx context.Context, cmd *cobra.Command, args []string) error {
		pos, pairs, err := parseFlags(cmd, args)
		if err != nil {
			return err
		}
		if err := checkArgs(pos, 1, 1, "A "+noun+" name is required."); err != nil {
			return err
		}
		f.archiveSet = collection == client.Triggers && cmd.Flags().Changed("archive-days")
		body, params, err := a.entityBody(f, pairs)
		if err != nil {
			return err
		}
		if collection == client.Triggers {
			switch {
			case !update && f.feed != "":
				return a.createFeedTrigger(ctx, pos[0], f.feed, body, params.object())
			case update && len(params.keys) > 0:
				if done, err := a.updateFeedTrigger(ctx, pos[0], params.object()); done || err != nil {
					return err
				}
			}
		}
		return a.put(ctx, collection, noun, done, pos[0], body, update)
	})
}

func (a *app) entityBody(f *entityFlags, pairs map[string][]pair) (*client.EntityPut, *keyValues, error) {
	params, err := a.collect(f.paramFile, pairs[paramFlag])
	if err != nil {
		return nil, nil, err
	}
	annotations, err := a.collect(f.annotationFile, pairs[annotationFlag])
	if err != nil {
		return nil, nil, err
	}
	if f.feed != "" {
		feed, _ := json.Marshal(f.feed) // a string always marshals
		annotations.set("feed", feed)
	}
	body := &client.EntityPut{Parameters: params.list(), Annotations: annotations.list()}
	if f.archiveSet {
		body.Archive = &client.ArchivePolicy{Days: f.archiveDays}
	}
	switch f.shared {
	case "":
	case "yes", "true":
		body.Publish = boolPtr(true)
	case "no", "false":
		body.Publish = boolPtr(false)
	default:
		return nil, nil, usageError{fmt.Sprintf("--shared takes yes or no, not %q", f.shared)}
	}
	return body, params, nil
}

func boolPtr(b bool) *bool { return &b }

// put sends a create or update and reports it the way wsk does.
func (a *app) put(ctx context.Context, collection, noun, done, name string, body *client.EntityPut, update bool) error {
	c, _, err := a.client()
	if err != nil {
		return err
	}
	resp, err := c.Put(ctx, collection, name, body, update)
	if err != nil {
		return err
	}
	if a.json {
		a.printRaw(resp)
		return nil
	}
	fmt.Fprintf(a.out, "ok: %s %s %s\n", done, noun, name)
	return nil
}

func (a *app) packageBindCmd() *cobra.Command {
	f := &entityFlags{}
	cmd := &cobra.Command{Use: "bind PACKAGE_NAME BOUND_PACKAGE_NAME", Short: "bind parameters to a package", DisableFlagParsing: true}
	cmd.Flags().StringVarP(&f.paramFile, "param-file", "P", "", "`FILE` containing parameter values in JSON format")
	addPairFlags(cmd, true)
	return a.leaf(cmd, func(ctx context.Context, cmd *cobra.Command, args []string) error {
		pos, pairs, err := parseFlags(cmd, args)
		if err != nil {
			return err
		}
		if err := checkArgs(pos, 2, 2, "A package name and binding name are required."); err != nil {
			return err
		}
		body, _, err := a.entityBody(f, pairs)
		if err != nil {
			return err
		}
		_, src, err := a.clientFor(pos[0])
		if err != nil {
			return err
		}
		body.Binding = &client.Binding{Namespace: src.Namespace, Name: src.Entity()}
		return a.put(ctx, client.Packages, "binding", "created", pos[1], body, false)
	})
}

func (a *app) rulePutCmd(update bool) *cobra.Command {
	verb, done := "create", "created"
	if update {
		verb, done = "update", "updated"
	}
	var filter string
	var delivery deliveryFlags
	cmd := a.leaf(&cobra.Command{Use: verb + " RULE_NAME TRIGGER_NAME ACTION_NAME", Short: verb + " a rule"},
		func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if err := checkArgs(args, 3, 3, "A rule, trigger and action name are required."); err != nil {
				return err
			}
			c, trigger, err := a.clientFor(args[1])
			if err != nil {
				return err
			}
			action, err := c.ParseName(args[2])
			if err != nil {
				return usageError{err.Error()}
			}
			body := &client.EntityPut{Trigger: trigger.String(), Action: action.String()}
			if cmd.Flags().Changed("filter") {
				if body.Filter, err = filterFlag(filter); err != nil {
					return err
				}
			}
			delivery.apply(body)
			return a.put(ctx, client.Rules, "rule", done, args[0], body, update)
		})
	delivery.register(cmd)
	cmd.Flags().StringVar(&filter, "filter", "", "only fire for events that pass `FILTER`: a CEL expression over params and event (\"params.temp > 30\"), or a JSON shorthand object ('{\"exact\":{\"type\":\"…\"}}'); \"\" removes it on update")
	return cmd
}

// filterFlag is the rule body's filter for --filter: a JSON object as
// given (the shorthand), any other text as a CEL expression, "" as null
// (no filter).
func filterFlag(s string) (json.RawMessage, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return json.RawMessage("null"), nil
	case strings.HasPrefix(t, "{"):
		if !json.Valid([]byte(t)) {
			return nil, usageError{"--filter: a filter starting with '{' must be a JSON object"}
		}
		return json.RawMessage(t), nil
	}
	b, _ := json.Marshal(s)
	return b, nil
}

func (a *app) ruleStatusCmd(verb, status string) *cobra.Command {
	return a.leaf(&cobra.Command{Use: verb + " RULE_NAME", Short: verb + " a rule"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 1, "A rule name is required."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			resp, err := c.SetRuleStatus(ctx, args[0], status)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			fmt.Fprintf(a.out, "ok: %sd rule %s\n", verb, args[0])
			return nil
		})
}

func (a *app) triggerFireCmd() *cobra.Command {
	var paramFile string
	cmd := &cobra.Command{Use: "fire TRIGGER_NAME", Short: "fire a trigger", DisableFlagParsing: true}
	cmd.Flags().StringVarP(&paramFile, "param-file", "P", "", "`FILE` containing parameter values in JSON format")
	addPairFlags(cmd, false)
	return a.leaf(cmd, func(ctx context.Context, cmd *cobra.Command, args []string) error {
		pos, pairs, err := parseFlags(cmd, args)
		if err != nil {
			return err
		}
		if err := checkArgs(pos, 1, 1, "A trigger name is required."); err != nil {
			return err
		}
		c, qn, err := a.clientFor(pos[0])
		if err != nil {
			return err
		}
		params, err := a.collect(paramFile, pairs[paramFlag])
		if err != nil {
			return err
		}
		id, resp, err := c.FireTrigger(ctx, qn.String(), params.object())
		switch {
		case err != nil:
			return err
		case a.json:
			a.printRaw(resp)
		case id == "":
			fmt.Fprintf(a.out, "ok: triggered /%s/%s (no active rules)\n", qn.Namespace, qn.Entity())
		default:
			fmt.Fprintf(a.out, "ok: triggered /%s/%s with id %s\n", qn.Namespace, qn.Entity(), id)
		}
		return nil
	})
}

// entityGetCmd gets an entity; after, when set, adds to what is printed
// (a trigger's feed state).
func (a *app) entityGetCmd(collection, noun string, after func(ctx context.Context, c *client.Client, auth, name string, body json.RawMessage)) *cobra.Command {
	return a.leaf(&cobra.Command{Use: "get " + strings.ToUpper(noun) + "_NAME", Short: "get " + noun},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 1, "A "+noun+" name is required."); err != nil {
				return err
			}
			c, s, err := a.client()
			if err != nil {
				return err
			}
			resp, err := c.Get(ctx, collection, args[0], nil)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			fmt.Fprintf(a.out, "ok: got %s %s\n", noun, args[0])
			a.printJSON(resp.Body)
			if after != nil {
				after(ctx, c, s.Auth, args[0], resp.Body)
			}
			return nil
		})
}

// entityDeleteCmd deletes an entity; before, when set, runs first (a
// trigger's feed DELETE).
func (a *app) entityDeleteCmd(collection, noun string, before func(ctx context.Context, c *client.Client, auth, name string)) *cobra.Command {
	return a.leaf(&cobra.Command{Use: "delete " + strings.ToUpper(noun) + "_NAME", Short: "delete " + noun},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 1, 1, "A "+noun+" name is required."); err != nil {
				return err
			}
			c, s, err := a.client()
			if err != nil {
				return err
			}
			if before != nil {
				before(ctx, c, s.Auth, args[0])
			}
			resp, err := c.Delete(ctx, collection, args[0])
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			fmt.Fprintf(a.out, "ok: deleted %s %s\n", noun, args[0])
			return nil
		})
}

// listed is what the entity tables show of each entry.
type listed struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Publish   bool   `json:"publish"`
	Status    string `json:"status"`
}

func (a *app) entityListCmd(collection, title string) *cobra.Command {
	var limit, skip int
	cmd := a.leaf(&cobra.Command{Use: "list [NAMESPACE]", Short: "list " + title},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 1, ""); err != nil {
				return err
			}
			ns := ""
			if len(args) == 1 {
				ns = strings.Trim(args[0], "/")
			}
			return a.listEntities(ctx, collection, title, ns, limit, skip)
		})
	cmd.Flags().IntVarP(&limit, "limit", "l", 30, "only return `LIMIT` entries")
	cmd.Flags().IntVarP(&skip, "skip", "s", 0, "exclude the first `SKIP` entries")
	return cmd
}

func (a *app) listEntities(ctx context.Context, collection, title, ns string, limit, skip int) error {
	c, _, err := a.client()
	if err != nil {
		return err
	}
	var entries []listed
	resp, err := c.List(ctx, collection, ns, limit, skip, &entries)
	if err != nil {
		return err
	}
	if a.json {
		a.printRaw(resp)
		return nil
	}
	fmt.Fprintln(a.out, title)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	for _, e := range entries {
		kind := "private"
		if e.Publish {
			kind = "shared"
		}
		if e.Status != "" {
			kind = e.Status
		}
		fmt.Fprintf(a.out, "%-70s %s\n", "/"+e.Namespace+"/"+e.Name, kind)
	}
	return nil
}

// listAllCmd is "wisp list": every entity of the namespace, like wsk list.
func (a *app) listAllCmd() *cobra.Command {
	return a.leaf(&cobra.Command{Use: "list [NAMESPACE]", Short: "list entities in the current namespace"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 1, ""); err != nil {
				return err
			}
			ns := ""
			if len(args) == 1 {
				ns = strings.Trim(args[0], "/")
			}
			fmt.Fprintf(a.out, "Entities in namespace: %s\n", displayNamespace(ns))
			if err := a.listEntities(ctx, client.Packages, "packages", ns, 0, 0); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			actions, _, err := c.ListActions(ctx, client.ActionListOptions{Namespace: ns})
			if err != nil {
				return err
			}
			a.printActionList(actions, true)
			for _, coll := range []string{client.Triggers, client.Rules} {
				if err := a.listEntities(ctx, coll, coll, ns, 0, 0); err != nil {
					return err
				}
			}
			return nil
		})
}

func displayNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
