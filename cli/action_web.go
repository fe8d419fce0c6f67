package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// webFlags are --web and --web-secure of action create and update.
type webFlags struct {
	web, secure string
}

func (f *webFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.web, "web", "", "treat ACTION as a web action, a raw HTTP web action, or as a standard action; yes | true = web action, raw = raw HTTP web action, no | false = standard action")
	fl.StringVar(&f.secure, "web-secure", "", "secure the web action. where `SECRET` is true, false, or any string. Only valid when the ACTION is a web action")
}

// set reports whether either flag was given.
func (f *webFlags) set(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("web") || cmd.Flags().Changed("web-secure")
}

// annotations applies --web and --web-secure to the annotations given on
// the command line, the way wsk does: --web true|yes sets web-export: true,
// raw-http: false and final: true; raw sets all three true; false|no sets
// all three false. --web-secure true sets require-whisk-auth to a random
// number, a string to that string, false removes it. On update they are
// merged into the action's current annotations (existing), which the
// request replaces.
func (f *webFlags) annotations(cmd *cobra.Command, existing client.KeyValues, given *keyValues) (client.KeyValues, error) {
	kv := &keyValues{}
	for _, e := range existing {
		raw, err := json.Marshal(e.Value)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", e.Key, err)
		}
		kv.set(e.Key, raw)
	}
	for _, k := range given.keys {
		kv.set(k, given.values[k])
	}
	webOn := string(kv.values["web-export"]) == "true"
	if cmd.Flags().Changed("web") {
		var export, raw bool
		switch strings.ToLower(f.web) {
		case "yes", "true":
			export = true
		case "raw":
			export, raw = true, true
		case "no", "false":
		default:
			return nil, usageError{fmt.Sprintf("Invalid argument '%s' for --web flag. Valid input consist of 'yes', 'true', 'raw', 'false', or 'no'.", f.web)}
		}
		kv.set("web-export", jsonBool(export))
		kv.set("raw-http", jsonBool(raw))
		kv.set("final", jsonBool(export))
		webOn = export
	}
	if cmd.Flags().Changed("web-secure") {
		switch strings.ToLower(f.secure) {
		case "false":
			kv.unset("require-whisk-auth")
		default:
			if !webOn {
				return nil, usageError{"The --web-secure option is only valid when the --web option is enabled."}
			}
			secret := jsonString(f.secure)
			if strings.ToLower(f.secure) == "true" {
				n, err := rand.Int(rand.Reader, big.NewInt(1<<53))
				if err != nil {
					return nil, fmt.Errorf("make a web secret: %w", err)
				}
				secret = json.RawMessage(n.String())
			}
			kv.set("require-whisk-auth", secret)
		}
	}
	return kv.list(), nil
}

// currentAnnotations are the annotations of the action being updated; none
// when it does not exist yet.
func currentAnnotations(ctx context.Context, c *client.Client, name string) (client.KeyValues, error) {
	act, _, err := c.GetAction(ctx, name, false)
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && ce.StatusCode == http.StatusNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	}
	return act.Annotations, nil
}

func jsonBool(b bool) json.RawMessage {
	if b {
		return json.RawMessage("true")
	}
	return json.RawMessage("false")
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}
