package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// Flags that take two arguments, KEY and VALUE, as wsk's -p and -a do. Cobra
// cannot parse them, so commands that have them disable cobra's flag parsing,
// take the pairs out with splitPairs and hand the rest to parseFlags.
const (
	paramFlag      = "param"
	annotationFlag = "annotation"
)

// pairTokens maps each spelling of a pair flag to its name.
var pairTokens = map[string]string{
	"-p": paramFlag, "--" + paramFlag: paramFlag,
	"-a": annotationFlag, "--" + annotationFlag: annotationFlag,
}

// pair is one KEY VALUE given with -p or -a.
type pair struct{ key, value string }

// addPairFlags registers -p/--param and, with annotations, -a/--annotation so
// they show in help; their values never reach these flags.
func addPairFlags(cmd *cobra.Command, annotations bool) {
	cmd.Flags().StringArrayP(paramFlag, "p", nil, "parameter values in `KEY VALUE` format")
	if annotations {
		cmd.Flags().StringArrayP(annotationFlag, "a", nil, "annotation values in `KEY VALUE` format")
	}
}

// parseFlags parses the command line of a command with pair flags: it returns
// the positional arguments and the pairs by flag name, or errHelp after
// printing help for -h.
func parseFlags(cmd *cobra.Command, args []string) ([]string, map[string][]pair, error) {
	rest, pairs, err := splitPairs(cmd, args)
	if err != nil {
		return nil, nil, err
	}
	// Cobra skips parsing while DisableFlagParsing is set; lift it for this
	// call so persistent flags are merged and parsed as usual.
	cmd.DisableFlagParsing = false
	err = cmd.ParseFlags(rest)
	cmd.DisableFlagParsing = true
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	if help, _ := cmd.Flags().GetBool("help"); help {
		if err := cmd.Help(); err != nil {
			return nil, nil, fmt.Errorf("print help: %w", err)
		}
		return nil, nil, errHelp
	}
	return cmd.Flags().Args(), pairs, nil
}

// splitPairs takes "-p KEY VALUE" and "-a KEY VALUE" out of args, for the pair
// flags cmd has; everything after "--" is left alone.
func splitPairs(cmd *cobra.Command, args []string) ([]string, map[string][]pair, error) {
	pairs := map[string][]pair{}
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, ok := pairTokens[args[i]]
		if !ok || cmd.Flags().Lookup(name) == nil {
			rest = append(rest, args[i])
			continue
		}
		if i+2 >= len(args) {
			return nil, nil, usageError{fmt.Sprintf("Arguments for '%s' must be a key/value pair", args[i])}
		}
		pairs[name] = append(pairs[name], pair{key: args[i+1], value: args[i+2]})
		i += 2
	}
	return rest, pairs, nil
}

// keyValues collects parameters or annotations in the order they were first
// given; a later value for a key replaces the earlier one.
type keyValues struct {
	keys   []string
	values map[string]json.RawMessage
}

func (kv *keyValues) set(key string, value json.RawMessage) {
	if kv.values == nil {
		kv.values = map[string]json.RawMessage{}
	}
	if _, seen := kv.values[key]; !seen {
		kv.keys = append(kv.keys, key)
	}
	kv.values[key] = value
}

// unset removes key.
func (kv *keyValues) unset(key string) {
	if _, ok := kv.values[key]; !ok {
		return
	}
	delete(kv.values, key)
	for i, k := range kv.keys {
		if k == key {
			kv.keys = append(kv.keys[:i], kv.keys[i+1:]...)
			break
		}
	}
}

// list renders the pairs as OpenWhisk's [{key, value}] list, nil when empty.
func (kv *keyValues) list() client.KeyValues {
	var out client.KeyValues
	for _, k := range kv.keys {
		out = append(out, client.KeyValue{Key: k, Value: kv.values[k]})
	}
	return out
}

// object renders the pairs as one JSON object (an invoke's body).
func (kv *keyValues) object() map[string]json.RawMessage {
	if kv.values == nil {
		return map[string]json.RawMessage{}
	}
	return kv.values
}

// jsonValue is v itself when it is valid JSON, else v as a JSON string, the
// way wsk reads the VALUE of -p and -a.
func jsonValue(v string) json.RawMessage {
	if json.Valid([]byte(v)) {
		return json.RawMessage(strings.TrimSpace(v))
	}
	quoted, _ := json.Marshal(v) // a string always marshals
	return quoted
}

// collect merges the JSON object in file (if any; "-" reads stdin) with the
// pairs given on the command line, which win.
func (a *app) collect(file string, pairs []pair) (*keyValues, error) {
	kv := &keyValues{}
	if file != "" {
		obj, err := a.readObject(file)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kv.set(k, obj[k])
		}
	}
	for _, p := range pairs {
		kv.set(p.key, jsonValue(p.value))
	}
	return kv, nil
}

// readObject reads a file holding one JSON object.
func (a *app) readObject(file string) (map[string]json.RawMessage, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(a.in)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("file '%s' must hold a JSON object: %w", file, err)
	}
	if obj == nil {
		return nil, errors.New("file '" + file + "' must hold a JSON object, not null")
	}
	return obj, nil
}
