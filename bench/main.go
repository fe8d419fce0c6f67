package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

func main() {
	n := flag.Int("n", 2000, "calls per path")
	backend := flag.String("invoker", "process", "invoker backend: process, docker, or docker-sockets (Docker with unix sockets)")
	wispBin := flag.String("wisp", "", "wisp binary for the Docker runtime images (default: build one)")
	flag.Parse()
	if strings.HasPrefix(*backend, "docker") && *wispBin == "" {
		dir, err := os.MkdirTemp("", "wisp-bench-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		*wispBin = filepath.Join(dir, "wisp")
		if out, err := exec.Command("go", "build", "-o", *wispBin, "github.com/wispio/wisp/cmd/wisp").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: build wisp: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *n, *backend, *wispBin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
