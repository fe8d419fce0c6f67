package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/wispio/wisp/server"
)

func main() {
	n := flag.Int("n", 2000, "calls per path")
	backend := flag.String("invoker", "process", "invoker backend: process, docker, or docker-sockets (Docker with unix sockets)")
	wispBin := flag.String("wisp", "", "wisp binary for the Docker runtime images (default: build one)")
	feedsMode := flag.Bool("feeds", false, "measure feed event → action start (MQTT, CouchDB) instead, on the process backend")
	mqttURL := flag.String("mqtt", os.Getenv("WISP_TEST_MQTT"), "with -feeds: MQTT broker URL (default $WISP_TEST_MQTT; empty skips MQTT)")
	couchURL := flag.String("couchdb", os.Getenv("WISP_TEST_COUCHDB"), "with -feeds or -cluster: CouchDB server URL (default $WISP_TEST_COUCHDB; with -feeds, empty skips CouchDB)")
	clusterMode := flag.Bool("cluster", false, "measure the NATS hop against the in-process bus and no-op activations per second with 1 and 3 invokers (process backend)")
	natsURL := flag.String("nats", os.Getenv("WISP_TEST_NATS"), "with -cluster: NATS server URL with JetStream (default $WISP_TEST_NATS)")
	faultsMode := flag.Bool("faults", false, "the fault harness: 2,000 non-blocking invokes and 500 fires from 50 callers plus 1,000 MQTT messages (-mqtt), wisp serve SIGKILLed at 40 % and restarted, -runs times; prints accepted / recorded / missing / duplicated")
	runs := flag.Int("runs", 3, "with -faults: how many kill runs")
	obsMode := flag.Bool("observability", false, "measure the warm invoke with metrics and tracing (SDK, no exporter) on against both off, side by side")
	langsMode := flag.Bool("langs", false, "cold, stem cell and warm invokes of java, go, ruby and php actions against nodejs on the Docker backend (-n each; try -n 20)")
	apigwMode := flag.Bool("apigw", false, "measure a GET through an API gateway route against the same web action at /api/v1/web (process backend); target ratio within 1.10")
	throughputMode := flag.Bool("throughput", false, "warm invokes per second at 1, 4, 16 and 64 concurrent callers against the direct path, then non-blocking invokes per second (fsync on) from 64 callers")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (Wisp runs in this process) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *faultsMode {
		if err := runFaults(ctx, *runs, *wispBin, *mqttURL, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *apigwMode {
		if err := runAPIGW(ctx, *n, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *clusterMode {
		if err := runCluster(ctx, *n, *natsURL, *couchURL, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *feedsMode {
		if err := runFeeds(ctx, *n, *mqttURL, *couchURL, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *langsMode {
		*backend = server.BackendDocker
	}
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
	if *obsMode {
		if err := runObservability(ctx, *n, *backend, *wispBin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *throughputMode {
		if err := runThroughput(ctx, *n, *backend, *wispBin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *langsMode {
		if err := runLangs(ctx, *n, *wispBin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, *n, *backend, *wispBin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// startCPUProfile starts a CPU profile into path and returns what stops it
// and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
