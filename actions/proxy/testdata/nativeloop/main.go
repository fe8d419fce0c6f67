// Command nativeloop is a native action for the proxy's tests: it speaks
// the ActionLoop protocol, reading one activation per line on stdin and
// answering each on fd 3. It logs "out <name>" and "err <name>" and answers
// {"echo": value, "pid": its pid, "greeting": $GREETING, "apiKey":
// $__OW_API_KEY}; it exports the activation's fields as __OW_* variables as
// the ActionLoop library does; value.mode picks a
// misbehaviour: "notobject" answers 42, "die" exits without answering.
// NATIVELOOP_EXIT set makes it exit at start; __OW_WAIT_FOR_ACK set makes it
// acknowledge with $NATIVELOOP_ACK, default {"ok":true}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func main() {
	if os.Getenv("NATIVELOOP_EXIT") != "" {
		fmt.Fprintln(os.Stderr, "nativeloop: exiting at start")
		os.Exit(3)
	}
	results := os.NewFile(3, "results")
	if os.Getenv("__OW_WAIT_FOR_ACK") != "" {
		ack := os.Getenv("NATIVELOOP_ACK")
		if ack == "" {
			ack = `{"ok":true}`
		}
		fmt.Fprintln(results, ack)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 64<<20)
	for in.Scan() {
		var req struct {
			Value json.RawMessage `json:"value"`
		}
		var args struct{ Name, Mode string }
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "nativeloop:", err)
			os.Exit(2)
		}
		// Export the other fields as the ActionLoop library does: set,
		// never unset.
		var fields map[string]any
		_ = json.Unmarshal(in.Bytes(), &fields)
		for k, v := range fields {
			if s, ok := v.(string); ok && k != "value" {
				os.Setenv("__OW_"+strings.ToUpper(k), s)
			}
		}
		_ = json.Unmarshal(req.Value, &args) // value may be anything
		fmt.Println("out", args.Name)
		fmt.Fprintln(os.Stderr, "err", args.Name)
		switch args.Mode {
		case "notobject":
			fmt.Fprintln(results, "42")
			continue
		case "die":
			os.Exit(4)
		}
		out, _ := json.Marshal(map[string]any{"echo": req.Value, "pid": os.Getpid(), "greeting": os.Getenv("GREETING"), "apiKey": os.Getenv("__OW_API_KEY")})
		fmt.Fprintln(results, string(out))
	}
}
