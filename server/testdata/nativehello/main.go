// Command nativehello is a native action for the server's Docker test: the
// README's example loop, also answering with its pid and uid.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	results := os.NewFile(3, "results") // one JSON line per activation
	in := bufio.NewScanner(os.Stdin)    // one JSON line per activation
	in.Buffer(make([]byte, 64<<10), 64<<20)
	for in.Scan() {
		var req struct {
			Value struct {
				Name string `json:"name"`
			} `json:"value"`
		}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad activation:", err)
		}
		fmt.Println("hi", req.Value.Name) // the activation's logs
		out, _ := json.Marshal(map[string]any{"greeting": "hello " + req.Value.Name, "pid": os.Getpid(), "uid": os.Getuid()})
		fmt.Fprintf(results, "%s\n", out)
	}
}
