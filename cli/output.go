package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wispio/wisp/client"
)

// printJSON prints a JSON document indented by four spaces, as wsk does; text
// that is not JSON is printed as it is.
func (a *app) printJSON(data []byte) { writeJSON(a.out, data) }

func writeJSON(w io.Writer, data []byte) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}") // an activation without a result
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(data), "", "    "); err != nil {
		buf.Reset()
		buf.Write(bytes.TrimSpace(data))
	}
	buf.WriteByte('\n')
	_, _ = w.Write(buf.Bytes())
}

// printRaw prints a response body exactly as the server sent it (--json).
func (a *app) printRaw(resp *client.Response) {
	if resp == nil {
		return
	}
	body := resp.Body
	_, _ = a.out.Write(body)
	if len(body) == 0 || body[len(body)-1] != '\n' {
		fmt.Fprintln(a.out)
	}
}

// printActionList prints wsk's action table: a header, then one row per action.
func (a *app) printActionList(actions []client.Action, sortByName bool) {
	if sortByName {
		sort.SliceStable(actions, func(i, j int) bool {
			return strings.ToLower(actions[i].Namespace+"/"+actions[i].Name) < strings.ToLower(actions[j].Namespace+"/"+actions[j].Name)
		})
	}
	fmt.Fprintln(a.out, "actions")
	for _, act := range actions {
		kind, _ := act.Annotations.Get("exec").(string)
		if kind == "" && act.Exec != nil {
			kind = act.Exec.Kind
		}
		visibility := "private"
		if act.Publish {
			visibility = "shared"
		}
		fmt.Fprintf(a.out, "%-70s %s %s\n", "/"+act.Namespace+"/"+act.Name, visibility, kind)
	}
}

// statusNames are the activation status codes in words.
var statusNames = []string{"success", "application error", "developer error", "internal error"}

// activationStatus is an activation's status code: from its response when the
// server sent one, else from the list row's top-level statusCode.
func activationStatus(act client.Activation) int {
	if act.Response.Status != "" {
		return act.Response.StatusCode
	}
	return act.StatusCode
}

func statusName(code int) string {
	if code > 0 && code < len(statusNames) {
		return statusNames[code]
	}
	return statusNames[0]
}

// truncate shortens s to most characters with "..." in the middle, as wsk does.
func truncate(s string, most int) string {
	if len(s) <= most {
		return s
	}
	mid := most / 2
	upper := len(s) - mid + 3
	if most%2 != 0 {
		mid++
	}
	return s[:mid] + "..." + s[upper:]
}

// printActivationList prints wsk's activation table: Datetime, Activation ID,
// Kind, Start (cold or warm), Duration, Status and Entity.
func (a *app) printActivationList(list []client.Activation) {
	kindWidth, statusWidth := len("Kind"), len(statusNames[0])
	for _, act := range list {
		kindWidth = max(kindWidth, len(activationKind(act)))
		statusWidth = max(statusWidth, len(statusName(activationStatus(act))))
	}
	kw, sw := strconv.Itoa(kindWidth), strconv.Itoa(statusWidth)
	fmt.Fprintf(a.out, "%-19s %-32s %-"+kw+"s %-6s%-10s %-"+sw+"s %-6s\n",
		"Datetime", "Activation ID", "Kind", "Start", "Duration", "Status", "Entity")
	for _, act := range list {
		start := time.UnixMilli(act.Start).In(a.location)
		var duration time.Duration
		if act.Duration != 0 {
			duration = time.Duration(act.End-act.Start) * time.Millisecond
		}
		startKind := "warm"
		if act.Annotations.Get("initTime") != nil {
			startKind = "cold"
		}
		entity := truncate(act.Namespace, 20) + "/" + truncate(act.Name, 30) + ":" + truncate(act.Version, 20)
		fmt.Fprintf(a.out, "%s %-32s %-"+kw+"s %-5s %-10v %-"+sw+"s %s\n",
			start.Format("2006-01-02 15:04:05"), act.ActivationID, activationKind(act), startKind,
			duration, statusName(activationStatus(act)), entity)
	}
}

func activationKind(act client.Activation) string {
	if kind, ok := act.Annotations.Get("kind").(string); ok {
		return kind
	}
	return "unknown"
}

// logLine matches a log line "<RFC 3339 time> stdout: text" to strip it.
var logLine = regexp.MustCompile(`^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d\.\d+Z( *(stdout|stderr):)?\s(.*)`)

// stripLog drops the timestamp and stream of a log line, as wsk --strip does.
func stripLog(line string) string {
	if m := logLine.FindStringSubmatch(line); len(m) > 3 && m[3] != "" {
		return m[3]
	}
	return line
}

// printActionSummary prints wsk's one-entity summary: the name, a description
// and the parameters, bound ones marked "*" ("**" when final).
func (a *app) printActionSummary(act *client.Action) {
	params := paramUnion(act)
	description, _ := act.Annotations.Get("description").(string)
	name := "/" + act.Namespace + "/" + act.Name
	switch {
	case description != "":
		fmt.Fprintf(a.out, "action %s: %s\n", name, description)
	case len(params) > 0:
		fmt.Fprintf(a.out, "action %s: %s\n", name, paramDescription(params))
	default:
		fmt.Fprintf(a.out, "action %s\n", name)
	}
	list := "none defined"
	if len(params) > 0 {
		list = strings.Join(params, ", ")
	}
	fmt.Fprintf(a.out, "   (parameters: %s)\n", list)
}

// paramUnion is the sorted union of bound parameters and the parameters the
// "parameters" annotation documents, bound ones tagged.
func paramUnion(act *client.Action) []string {
	tag := "*"
	if final, _ := act.Annotations.Get("final").(bool); final {
		tag = "**"
	}
	bound := map[string]bool{}
	names := map[string]bool{}
	for _, p := range act.Parameters {
		bound[p.Key], names[p.Key] = true, true
	}
	if documented, ok := act.Annotations.Get("parameters").([]any); ok {
		for _, d := range documented {
			if m, ok := d.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					names[n] = true
				}
			}
		}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	for i, n := range out {
		if bound[n] {
			out[i] = tag + n
		}
	}
	return out
}

// paramDescription is wsk's default description: "Returns a result based on
// parameters a, b and c".
func paramDescription(params []string) string {
	plain := make([]string, len(params))
	for i, p := range params {
		plain[i] = strings.TrimLeft(p, "*")
	}
	if len(plain) == 1 {
		return "Returns a result based on parameter " + plain[0]
	}
	return "Returns a result based on parameters " + strings.Join(plain[:len(plain)-1], ", ") + " and " + plain[len(plain)-1]
}
