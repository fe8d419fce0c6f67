package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/wispio/wisp/client"
)

// Feed lifecycle events, as the feed action receives them.
const (
	feedCreate = "CREATE"
	feedRead   = "READ"
	feedUpdate = "UPDATE"
	feedDelete = "DELETE"
)

// invokeFeed calls a trigger's feed action the way wsk does: blocking,
// with lifecycleEvent, triggerName (/namespace/trigger) and authKey over
// the user's parameters.
func invokeFeed(ctx context.Context, c *client.Client, auth, feed string, trigger client.QualifiedName, event string, params map[string]json.RawMessage) (*client.Invocation, error) {
	body := make(map[string]json.RawMessage, len(params)+3)
	for k, v := range params {
		body[k] = v
	}
	for k, v := range map[string]string{"lifecycleEvent": event, "triggerName": "/" + trigger.Namespace + "/" + trigger.Entity(), "authKey": auth} {
		body[k], _ = json.Marshal(v) // strings always marshal
	}
	inv, _, err := c.InvokeAction(ctx, feed, body, true, false)
	if err != nil {
		return inv, prefixError(err, "Unable to configure feed '%s'", feed)
	}
	return inv, nil
}

// prefixError puts context before an error's message; an API error stays
// one (its message is what the CLI prints), without the client's own
// "invoke action X:" prefix.
func prefixError(err error, format string, args ...any) error {
	prefix := fmt.Sprintf(format, args...)
	var ce *client.Error
	if errors.As(err, &ce) {
		return &client.Error{StatusCode: ce.StatusCode, Code: ce.Code, Message: prefix + ": " + ce.Message}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// triggerFeed returns the feed annotation of a trigger, "" when it has
// none (or is missing: the caller's next request reports that).
func triggerFeed(ctx context.Context, c *client.Client, name string) (string, error) {
	var t client.Trigger
	if _, err := c.Get(ctx, client.Triggers, name, &t); err != nil {
		return "", err
	}
	for _, kv := range t.Annotations {
		if kv.Key == "feed" {
			if s, ok := kv.Value.(string); ok {
				return s, nil
			}
		}
	}
	return "", nil
}

// createFeedTrigger creates a trigger wired to feed: the trigger is put
// with the feed annotation (the parameters go to the feed, not the
// trigger), then the feed is invoked with CREATE; if that fails, the
// trigger is deleted again and the feed's error reported.
func (a *app) createFeedTrigger(ctx context.Context, name, feed string, body *client.EntityPut, params map[string]json.RawMessage) error {
	c, s, err := a.client()
	if err != nil {
		return err
	}
	qn, err := c.ParseName(name)
	if err != nil {
		return usageError{err.Error()}
	}
	body.Parameters = nil
	resp, err := c.Put(ctx, client.Triggers, name, body, false)
	if err != nil {
		return err
	}
	inv, err := invokeFeed(ctx, c, s.Auth, feed, qn, feedCreate, params)
	if err != nil {
		if _, derr := c.Delete(ctx, client.Triggers, name); derr != nil {
			fmt.Fprintf(a.errOut, "warning: the trigger %s stays: %v\n", name, derr)
		}
		return prefixError(err, "Unable to create trigger '%s'", name)
	}
	if a.json {
		a.printRaw(resp)
		return nil
	}
	a.printFeedInvocation(a.out, feed, inv)
	fmt.Fprintf(a.out, "ok: created trigger %s\n", name)
	return nil
}

// updateFeedTrigger sends the new parameters of a feed trigger to its
// feed (UPDATE), as wsk does; ok is false when the trigger has no feed.
func (a *app) updateFeedTrigger(ctx context.Context, name string, params map[string]json.RawMessage) (ok bool, err error) {
	c, s, err := a.client()
	if err != nil {
		return false, err
	}
	qn, err := c.ParseName(name)
	if err != nil {
		return false, usageError{err.Error()}
	}
	feed, err := triggerFeed(ctx, c, name)
	if err != nil || feed == "" {
		return false, nil // a missing trigger: the plain update creates it
	}
	inv, err := invokeFeed(ctx, c, s.Auth, feed, qn, feedUpdate, params)
	if err != nil {
		return true, prefixError(err, "Unable to update trigger '%s'", name)
	}
	if !a.json {
		a.printFeedInvocation(a.out, feed, inv)
		fmt.Fprintf(a.out, "ok: updated trigger %s\n", name)
	}
	return true, nil
}

// deleteTriggerFeed tells a feed trigger's feed to stop (DELETE) before
// the trigger goes; a failure is reported and the deletion goes on.
func (a *app) deleteTriggerFeed(ctx context.Context, c *client.Client, auth, name string) {
	feed, err := triggerFeed(ctx, c, name)
	if err != nil || feed == "" {
		return
	}
	qn, err := c.ParseName(name)
	if err != nil {
		return
	}
	if _, err := invokeFeed(ctx, c, auth, feed, qn, feedDelete, nil); err != nil {
		fmt.Fprintf(a.errOut, "warning: %v\n", err)
	}
}

// printTriggerFeed shows what a feed trigger's feed answers to READ;
// body is the trigger as the server sent it.
func (a *app) printTriggerFeed(ctx context.Context, c *client.Client, auth, name string, body json.RawMessage) {
	var t client.Trigger
	if json.Unmarshal(body, &t) != nil {
		return
	}
	var feed string
	for _, kv := range t.Annotations {
		if s, ok := kv.Value.(string); ok && kv.Key == "feed" {
			feed = s
		}
	}
	if feed == "" {
		return
	}
	qn, err := c.ParseName(name)
	if err != nil {
		return
	}
	inv, err := invokeFeed(ctx, c, auth, feed, qn, feedRead, nil)
	if err != nil {
		fmt.Fprintf(a.out, "feed %s: %v\n", feed, err)
		return
	}
	fmt.Fprintf(a.out, "feed %s:\n", feed)
	if inv != nil && len(inv.Result) > 0 {
		a.printJSON(inv.Result)
	}
}

func (a *app) printFeedInvocation(w io.Writer, feed string, inv *client.Invocation) {
	if inv != nil && inv.ActivationID != "" {
		fmt.Fprintf(w, "ok: invoked %s with id %s\n", feed, inv.ActivationID)
	}
}
