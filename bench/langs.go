package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dclient "github.com/docker/docker/client"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/invoker"
	"github.com/wispio/wisp/server"
)

// langExec is a no-op action of one language: its exec, as PUT sends it.
type langExec struct {
	label string
	exec  map[string]any
}

// langExecs are the no-op actions measured by runLangs, nodejs first (the
// reference). The go one is source, compiled at each cold /init; "go
// binary" is the executable `wisp action create` sends when Go is at hand.
func langExecs(ctx context.Context) ([]langExec, error) {
	goSrc := "package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\treturn map[string]interface{}{\"ok\": true}\n}\n"
	out := []langExec{
		{"nodejs:20", map[string]any{"kind": "nodejs:20", "code": noopJS}},
		{actions.GoKind(), map[string]any{"kind": actions.GoKind(), "code": goSrc}},
		{"ruby:3", map[string]any{"kind": "ruby:3", "code": "def main(args)\n  { \"ok\" => true }\nend\n"}},
		{"php:8", map[string]any{"kind": "php:8", "code": "<?php\nfunction main(array $args) : array {\n    return ['ok' => true];\n}\n"}},
	}
	dir, err := os.MkdirTemp("", "wisp-bench-langs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Main.java"), []byte("public class Main {\n    public static com.google.gson.JsonObject main(com.google.gson.JsonObject a) {\n        com.google.gson.JsonObject r = new com.google.gson.JsonObject();\n        r.addProperty(\"ok\", true);\n        return r;\n    }\n}\n"), 0o644); err != nil {
		return nil, err
	}
	if b, err := exec.CommandContext(ctx, "javac", "-cp", "/usr/share/java/gson.jar", "-d", dir, filepath.Join(dir, "Main.java")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("javac: %w: %s", err, b)
	}
	class, err := os.ReadFile(filepath.Join(dir, "Main.class"))
	if err != nil {
		return nil, err
	}
	var jar bytes.Buffer
	zw := zip.NewWriter(&jar)
	if w, err := zw.Create("Main.class"); err != nil {
		return nil, err
	} else if _, err := w.Write(class); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out = append(out, langExec{"java:17", map[string]any{"kind": "java:17", "code": base64.StdEncoding.EncodeToString(jar.Bytes()), "binary": true, "main": "Main"}})
	return out, nil
}

// runLangs measures, for each language on the Docker backend, a cold start
// (a new revision, no stem cell), a stem cell hit and a warm invoke, n
// samples each, as ratios against the nodejs:20 action in the same run.
func runLangs(ctx context.Context, n int, wispBin string, w io.Writer) error {
	api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer api.Close()
	execs, err := langExecs(ctx)
	if err != nil {
		return err
	}
	samples := map[string]map[string][]time.Duration{} // mode → label → sorted samples
	for _, mode := range []string{"cold", "stem", "warm"} {
		samples[mode] = map[string][]time.Duration{}
		for _, le := range execs {
			out, err := langSamples(ctx, api, wispBin, le, mode, n)
			if err != nil {
				return fmt.Errorf("%s %s: %w", mode, le.label, err)
			}
			samples[mode][le.label] = out
		}
	}
	ref := execs[0].label
	for _, mode := range []string{"cold", "stem", "warm"} {
		for _, le := range execs[1:] {
			report(w, fmt.Sprintf("%s invoke: %s vs %s ('direct' is %s)", mode, le.label, ref, ref), samples[mode][le.label], samples[mode][ref])
		}
	}
	return nil
}

// langSamples times n blocking invokes of le in one mode, on a server of
// its own: cold (a new revision each time, on an engine with none of
// its containers), stem (the same with a stem cell of its kind, refilled
// before each) or warm (the same revision again).
func langSamples(ctx context.Context, api *dclient.Client, wispBin string, le langExec, mode string, n int) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "wisp-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	kind := le.exec["kind"].(string)
	s, err := startStack(ctx, dir, server.BackendDocker, wispBin, func(cfg *server.Config) {
		cfg.Pool.PauseGrace, cfg.Pool.IdleTimeout = 10*time.Millisecond, 50*time.Millisecond
		if mode == "warm" {
			cfg.Pool.PauseGrace, cfg.Pool.IdleTimeout = time.Hour, time.Hour
		}
		if mode == "stem" {
			cfg.Pool.StemCells = []invoker.StemCell{{Kind: kind, MemoryMB: 256, Count: 1}}
		}
	})
	if err != nil {
		return nil, err
	}
	defer s.close()
	base := "http://" + s.srv.Addr() + "/api/v1/namespaces/_/actions/lang"
	put := func(i int) error {
		body, _ := json.Marshal(map[string]any{"exec": le.exec, "parameters": []map[string]any{{"key": "v", "value": i}}})
		_, err := s.do(ctx, http.MethodPut, base+"?overwrite=true", body, true)
		return err
	}
	invoke := func() (time.Duration, error) {
		t0 := time.Now()
		_, err := s.do(ctx, http.MethodPost, base+"?blocking=true&result=true", []byte(`{}`), true)
		return time.Since(t0), err
	}
	var out []time.Duration
	if mode == "warm" {
		if err := put(0); err != nil {
			return nil, err
		}
		if _, err := invoke(); err != nil {
			return nil, err
		}
		for range n {
			d, err := invoke()
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		sortDurations(out)
		return out, nil
	}
	want := 0
	if mode == "stem" {
		want = 1
	}
	for i := range n {
		if err := put(i + 1); err != nil {
			return nil, err
		}
		if err := settle(ctx, s, api, want); err != nil {
			return nil, err
		}
		d, err := invoke()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sortDurations(out)
	return out, nil
}

// settle waits until the engine holds only the stem cells (want) of s's
// invoker: earlier revisions' containers gone, the stem cell refilled.
func settle(ctx context.Context, s *stack, api *dclient.Client, want int) error {
	pool := s.srv.Invoker().Pool()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		list, err := api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "wisp.invoker="+s.srv.InvokerID()))})
		if err != nil {
			return err
		}
		if len(list) == want && pool.Stats().StemCells == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the engine did not settle: %d containers, want %d", len(list), want)
		}
	}
}
