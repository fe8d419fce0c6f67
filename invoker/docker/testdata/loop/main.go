// Command loop is a native action for the Docker backend's conformance
// test: it speaks ActionLoop (one JSON activation a line on stdin, one
// JSON answer a line on fd 3) and answers every activation {"ok":true}.
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	out := os.NewFile(3, "answers")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for in.Scan() {
		fmt.Fprintln(out, `{"ok":true}`)
	}
}
