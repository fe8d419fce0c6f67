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
	"time"

	"github.com/wispio/wisp/server"
)

func main() {
	n := flag.Int("n", 2000, "calls per path")
	backend := flag.String("invoker", "process", "invoker backend: process, docker, or docker-sockets (Docker with unix sockets)")
	wispBin := flag.String("wisp", "", "wisp binary for the Docker runtime images (default: build one)")
	feedsMode := flag.Bool("feeds", false, "measure feed event → action start (MQTT, CouchDB) instead, on the process backend")
	mqttURL := flag.String("mqtt", os.Getenv("WISP_TEST_MQTT"), "with -feeds: MQTT broker URL (default $WISP_TEST_MQTT; empty skips MQTT)")
	couchURL := flag.String("couchdb", os.Getenv("WISP_TEST_COUCHDB"), "with -feeds, -cluster or -invokers: CouchDB server URL (default $WISP_TEST_COUCHDB; with -feeds, empty skips CouchDB)")
	clusterMode := flag.Bool("cluster", false, "measure the NATS hop against the in-process bus and no-op activations per second with 1 and 3 invokers (process backend)")
	natsURL := flag.String("nats", os.Getenv("WISP_TEST_NATS"), "with -cluster or -invokers: NATS server URL with JetStream (default $WISP_TEST_NATS; -invokers starts its own when empty)")
	faultsMode := flag.Bool("faults", false, "the fault harness: 2,000 non-blocking invokes and 500 fires from 50 callers plus 1,000 MQTT messages (-mqtt), wisp serve SIGKILLed at 40 % and restarted, -runs times; prints accepted / recorded / missing / duplicated")
	runs := flag.Int("runs", 3, "with -faults: how many kill runs")
	obsMode := flag.Bool("observability", false, "measure the warm invoke with metrics and tracing (SDK, no exporter) on against both off, side by side")
	langsMode := flag.Bool("langs", false, "cold, stem cell and warm invokes of java, go, ruby and php actions against nodejs on the Docker backend (-n each; try -n 20)")
	poolsMode := flag.Bool("pools", false, "only the Docker backend's pool rows (resume, cold start, stem cell hits, a burst of 20 new actions), -n samples each, on -invoker (docker or docker-sockets)")
	apigwMode := flag.Bool("apigw", false, "measure a GET through an API gateway route against the same web action at /api/v1/web (process backend); target ratio within 1.10")
	invokersMode := flag.Bool("invokers", false, "blocking invokes per second of a sleeping action with 1 and 3 invokers, each a wisp serve process (process backend) holding -capacity activations, one controller, nats-server (-nats, or one started here) and CouchDB (-couchdb); target ratio >= 2.5")
	duration := flag.Duration("duration", 10*time.Second, "with -invokers: measured time per number of invokers")
	callers := flag.Int("callers", 64, "with -invokers: concurrent blocking callers")
	capacity := flag.Int("capacity", 8, "with -invokers: activations one invoker holds at once (its --user-memory is this times 128 MB)")
	sleepMS := flag.Int("sleep", 200, "with -invokers: milliseconds each activation sleeps")
	controllers := flag.Int("controllers", 1, "with -invokers: controllers the callers are spread over")
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
	if *invokersMode {
		cfg := scaleConfig{Bin: *wispBin, NATSURL: *natsURL, CouchURL: *couchURL, Duration: *duration, Warm: max(*duration/4, 2*time.Second),
			Callers: *callers, Controllers: *controllers, Capacity: *capacity, SleepMS: *sleepMS, Sizes: []int{1, 3}}
		if _, err := runInvokers(ctx, cfg, os.Stdout); err != nil {
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
	if *poolsMode {
		if err := runPools(ctx, *n, *backend, *wispBin, os.Stdout); err != nil {
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
