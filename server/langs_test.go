package server

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/internal/testenv"
	"github.com/wispio/wisp/invoker"
)

// langAction is one action of a language's table: its code (base64 with
// binary for a jar or zip), main, and what its activation must show.
type langAction struct {
	name, code, main string
	binary           bool
	timeout          int // ms; default 60 s
	params           map[string]any
	status           string // "success" by default
	want             string // in the result
	log              string // a log line ends with it
}

// zipBase64 zips files (name → content) and encodes the archive.
func zipBase64(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// javaJar compiles the sources under testdata/langs/java/<dir> against
// Gson and returns the jar of their classes, base64.
func javaJar(t *testing.T, dir string) string {
	t.Helper()
	javac, err := exec.LookPath("javac")
	testenv.Require(t, "javac", err == nil, "apt-get install openjdk-17-jdk-headless")
	_, err = os.Stat("/usr/share/java/gson.jar")
	testenv.Require(t, "gson", err == nil, "apt-get install libgoogle-gson-java")
	src := filepath.Join("testdata", "langs", "java", dir)
	var sources []string
	_ = filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".java") {
			sources = append(sources, p)
		}
		return err
	})
	out := t.TempDir()
	args := append([]string{"--release", "17", "-cp", "/usr/share/java/gson.jar", "-d", out}, sources...)
	if b, err := exec.Command(javac, args...).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, b)
	}
	files := map[string][]byte{}
	_ = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		}
		return err
	})
	return zipBase64(t, files)
}

// langTables are the actions every language runs: hello with a log line
// and the action's name from __OW_ACTION_NAME where the language shows it,
// parameters summed by a main other than the default, an application
// error, a crash, a timeout, a zip of two files and an init error.
func langTables(t *testing.T) map[string][]langAction {
	const crashed = "exited unexpectedly"
	const timedOut = "exceeded its time limits of 2000 milliseconds"
	goHello := "package main\n\nimport \"fmt\"\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\tname, _ := obj[\"name\"].(string)\n\tfmt.Println(\"hi\", name)\n\treturn map[string]interface{}{\"greeting\": \"hello \" + name}\n}\n\n" +
		"func Add(obj map[string]interface{}) map[string]interface{} {\n\treturn map[string]interface{}{\"sum\": obj[\"a\"].(float64) + obj[\"b\"].(float64)}\n}\n"
	rbHello := "def main(args)\n  name = args[\"name\"]\n  puts \"hi #{name}\"\n  { \"greeting\" => \"hello #{name}\", \"action\" => ENV[\"__OW_ACTION_NAME\"] }\nend\n\ndef add(args)\n  { \"sum\" => args[\"a\"] + args[\"b\"] }\nend\n"
	phpHello := "<?php\nfunction main(array $args) : array {\n    $name = $args['name'];\n    echo \"hi $name\\n\";\n    return ['greeting' => \"hello $name\", 'action' => getenv('__OW_ACTION_NAME')];\n}\n\nfunction add(array $args) : array {\n    return ['sum' => $args['a'] + $args['b']];\n}\n"
	tables := map[string][]langAction{
		actions.GoKind(): {
			{name: "hello", code: goHello, params: map[string]any{"name": "go"}, want: `"greeting":"hello go"`, log: "stdout: hi go"},
			{name: "params", code: goHello, main: "add", params: map[string]any{"a": 2, "b": 40}, want: `"sum":42`},
			{name: "apperr", code: "package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\treturn map[string]interface{}{\"error\": \"bad input\"}\n}\n", status: "application error", want: "bad input"},
			{name: "crash", code: "package main\n\nimport \"os\"\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\tos.Exit(3)\n\treturn nil\n}\n", status: "action developer error", want: crashed},
			{name: "timeout", timeout: 2000, code: "package main\n\nimport \"time\"\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\ttime.Sleep(time.Hour)\n\treturn nil\n}\n", status: "action developer error", want: timedOut},
			{name: "zip", binary: true, code: zipBase64(t, map[string][]byte{
				"main.go": []byte("package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\treturn map[string]interface{}{\"greeting\": greet(obj[\"name\"].(string))}\n}\n"),
				"util.go": []byte("package main\n\nfunc greet(name string) string { return \"hello \" + name + \" from two files\" }\n"),
			}), params: map[string]any{"name": "zip"}, want: "hello zip from two files"},
			{name: "initerr", code: "package main\n\nfunc Main(obj map[string]interface{}) map[string]interface{} {\n\treturn nope\n}\n", status: "action developer error", want: "undefined: nope"},
		},
		"ruby:3": {
			{name: "hello", code: rbHello, params: map[string]any{"name": "ruby"}, want: `"greeting":"hello ruby"`, log: "stdout: hi ruby"},
			{name: "params", code: rbHello, main: "add", params: map[string]any{"a": 2, "b": 40}, want: `"sum":42`},
			{name: "apperr", code: "def main(args)\n  raise ArgumentError, \"bad input\"\nend\n", status: "application error", want: "bad input"},
			{name: "crash", code: "def main(args)\n  exit!(3)\nend\n", status: "action developer error", want: crashed},
			{name: "timeout", timeout: 2000, code: "def main(args)\n  sleep\nend\n", status: "action developer error", want: timedOut},
			{name: "zip", binary: true, code: zipBase64(t, map[string][]byte{
				"main.rb":  []byte("require_relative \"greet\"\n\ndef main(args)\n  { \"greeting\" => greet(args[\"name\"]) }\nend\n"),
				"greet.rb": []byte("def greet(name)\n  \"hello #{name} from two files\"\nend\n"),
			}), params: map[string]any{"name": "zip"}, want: "hello zip from two files"},
			{name: "initerr", code: "def main(args\n  {}\n", status: "action developer error", want: "syntax error"},
		},
		"php:8": {
			{name: "hello", code: phpHello, params: map[string]any{"name": "php"}, want: `"greeting":"hello php"`, log: "stdout: hi php"},
			{name: "params", code: phpHello, main: "add", params: map[string]any{"a": 2, "b": 40}, want: `"sum":42`},
			{name: "apperr", code: "<?php\nfunction main(array $args) : array {\n    return ['error' => 'bad input'];\n}\n", status: "application error", want: "bad input"},
			{name: "crash", code: "<?php\nfunction main(array $args) : array {\n    exit(3);\n}\n", status: "action developer error", want: crashed},
			{name: "timeout", timeout: 2000, code: "<?php\nfunction main(array $args) : array {\n    while (true) { sleep(1); }\n}\n", status: "action developer error", want: timedOut},
			{name: "zip", binary: true, code: zipBase64(t, map[string][]byte{
				"index.php": []byte("<?php\nrequire __DIR__ . '/greet.php';\nfunction main(array $args) : array {\n    return ['greeting' => greet($args['name'])];\n}\n"),
				"greet.php": []byte("<?php\nfunction greet(string $name) : string {\n    return \"hello $name from two files\";\n}\n"),
			}), params: map[string]any{"name": "zip"}, want: "hello zip from two files"},
			{name: "initerr", code: "<?php\nfunction main(array $args {\n", status: "action developer error", want: "syntax error"},
		},
	}
	if _, err := exec.LookPath("javac"); err == nil {
		hello := javaJar(t, "hello")
		tables["java:17"] = []langAction{
			{name: "hello", code: hello, binary: true, params: map[string]any{"name": "java"}, want: `"greeting":"hello java"`, log: "stdout: hi java"},
			{name: "params", code: hello, binary: true, main: "Main#add", params: map[string]any{"a": 2, "b": 40}, want: `"sum":42`},
			{name: "apperr", code: hello, binary: true, main: "Main#fail", status: "application error", want: "bad input"},
			{name: "thrown", code: hello, binary: true, main: "Main#raise", status: "action developer error", want: "An error has occurred while invoking the action (see logs for details): java.lang.IllegalStateException: kaboom"},
			{name: "crash", code: hello, binary: true, main: "Main#crash", status: "action developer error", want: crashed},
			{name: "timeout", timeout: 2000, code: hello, binary: true, main: "Main#slow", status: "action developer error", want: timedOut},
			{name: "zip", code: javaJar(t, "zip"), binary: true, main: "com.example.Hello", params: map[string]any{"name": "zip"}, want: "hello zip from two classes"},
			{name: "initerr", code: hello, binary: true, main: "com.example.Nope", status: "action developer error", want: "java.lang.ClassNotFoundException: com.example.Nope"},
		}
	}
	return tables
}

// TestDockerLanguages runs each language's table through the whole server
// on the Docker backend, in the images built from this machine's JDK, Go,
// Ruby and PHP.
func TestDockerLanguages(t *testing.T) {
	testenv.Docker(t)
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = nil })
	info, _, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"java:17", actions.GoKind(), "ruby:3", "php:8"} {
		if !strings.Contains(string(mustJSON(info.Runtimes[actions.Family(kind)])), `"kind":"`+kind+`"`) {
			t.Errorf("GET /api/v1 runtimes lack %s: %s", kind, mustJSON(info.Runtimes))
		}
	}
	memory := 256
	for kind, table := range langTables(t) {
		t.Run(kind, func(t *testing.T) {
			requireImage(t, srv, kind)
			for _, la := range table {
				t.Run(la.name, func(t *testing.T) {
					name := actions.Family(kind) + "-" + la.name
					timeout := la.timeout
					if timeout == 0 {
						timeout = 60000
					}
					_, _, err := c.PutAction(context.Background(), &client.Action{
						Name:   name,
						Exec:   &client.Exec{Kind: kind, Code: la.code, Binary: la.binary, Main: la.main},
						Limits: &client.Limits{Timeout: &timeout, Memory: &memory},
					}, true)
					if err != nil {
						t.Fatal(err)
					}
					act := invoke(t, c, name, la.params)
					status := la.status
					if status == "" {
						status = "success"
					}
					result := string(mustJSON(act.Response.Result))
					if act.Response.Status != status || !strings.Contains(result, la.want) {
						t.Fatalf("activation = %s %s, want %s with %q; logs %q", act.Response.Status, result, status, la.want, act.Logs)
					}
					if la.log != "" && (len(act.Logs) != 1 || !strings.HasSuffix(act.Logs[0], la.log)) {
						t.Fatalf("logs = %q, want one ending in %q", act.Logs, la.log)
					}
					if la.name == "hello" && kind != actions.GoKind() && !strings.Contains(result, `"action":"/test/`+name+`"`) {
						t.Fatalf("result %s lacks the action's name from __OW_ACTION_NAME", result)
					}
				})
			}
		})
	}
}

// requireImage fails the test when kind has no runtime image on srv's
// backend: its toolchain was missing when the server started.
func requireImage(t *testing.T, srv *Server, kind string) {
	t.Helper()
	for _, rt := range RuntimeImages(srv.cfg.API.Kinds) {
		if rt.Kind == kind {
			return
		}
	}
	testenv.Require(t, kind+" toolchain", false, "scripts/test.sh installs it (openjdk-17-jdk-headless, libgoogle-gson-java, ruby, php-cli)")
}

// TestDockerStemCellsPerKind: every new kind's stem cell is taken by a cold
// start of a matching action; the java one holds a started JVM, so its
// init costs less than a cold container's (logged, not asserted).
func TestDockerStemCellsPerKind(t *testing.T) {
	testenv.Docker(t)
	kinds := []string{"java:17", actions.GoKind(), "ruby:3", "php:8"}
	var cells []invoker.StemCell
	for _, k := range kinds {
		cells = append(cells, invoker.StemCell{Kind: k, MemoryMB: 256, Count: 1})
	}
	srv, c := startDocker(t, func(cfg *Config) { cfg.Pool.StemCells = cells })
	tables := langTables(t)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			requireImage(t, srv, kind)
			hello := tables[kind][0]
			waitWithin(t, containerWait, "the stem cell of "+kind, func() bool { return srv.Invoker().Pool().Stats().Kinds[kind].StemCells == 1 })
			name := actions.Family(kind) + "-stem"
			_, _, err := c.PutAction(context.Background(), &client.Action{Name: name, Exec: &client.Exec{Kind: kind, Code: hello.code, Binary: hello.binary}}, true)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			act := invoke(t, c, name, hello.params)
			initTime, ok := annotation(act, "initTime")
			if !ok || !act.Response.Success {
				t.Fatalf("activation = %+v %s", act.Response, mustJSON(act.Response.Result))
			}
			if st := srv.Invoker().Pool().Stats().Kinds[kind]; st.Containers != 1 {
				t.Fatalf("after the stem hit: %+v, want the stem cell taken", st)
			}
			t.Logf("%s stem hit: initTime %s ms, invoke %s", kind, initTime, time.Since(start).Round(time.Millisecond))
		})
	}
}
