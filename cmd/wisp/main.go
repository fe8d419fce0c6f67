// Command wisp is Wisp's one binary: the server (wisp serve), its
// administration (wisp admin) and the wsk-style client (every other verb).
// This file wires packages together; it holds no logic of its own.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wispio/wisp/cli"
	_ "github.com/wispio/wisp/connectors/all" // the connectors wisp serve runs
	"github.com/wispio/wisp/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cli.NewRoot(os.Stdin, os.Stdout, os.Stderr)
	root.AddCommand(newServeCommand(), newAdminCommand(), newActionProxyCommand(), newRuntimesCommand(), newProbeCommand(), newVersionCommand(version.Get))
	if err := root.ExecuteContext(ctx); err != nil {
		if !cli.IsReported(err) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}
