package proxy

import (
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/testenv"
)

const testGson = "/usr/share/java/gson.jar"

// javaClassPath compiles the launcher (as the java image does) and
// returns the class path of it and Gson.
func javaClassPath(t *testing.T) string {
	t.Helper()
	requireInterpreter(t, RuntimeJava)
	javac, err := exec.LookPath("javac")
	testenv.Require(t, "javac", err == nil, "apt-get install openjdk-17-jdk-headless")
	_, err = os.Stat(testGson)
	testenv.Require(t, "gson", err == nil, "apt-get install libgoogle-gson-java")
	dir := t.TempDir()
	src := filepath.Join(dir, "WispLauncher.java")
	if err := os.WriteFile(src, []byte(JavaLauncher), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(javac, "-cp", testGson, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return dir + ":" + testGson
}

// javaJar compiles one class and jars it, base64.
func javaJar(t *testing.T, class, src string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, class+".java")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("javac", "-cp", testGson, "-d", dir, file).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, class+".class"))
	if err != nil {
		t.Fatal(err)
	}
	return zipCode(t, map[string]string{class + ".class": string(b)})
}

// TestJavaPrestartedJVM: the Server starts the JVM when it is made, before
// any /init (what makes a java stem cell worth having), and /init loads the
// jar into that same process; the default class is Main.
func TestJavaPrestartedJVM(t *testing.T) {
	cp := javaClassPath(t)
	ts := &testServer{stdout: &logBuffer{}, stderr: &logBuffer{}}
	s, err := New(Config{Runtime: RuntimeJava, WorkDir: filepath.Join(t.TempDir(), "w"), ClassPath: cp, Stdout: ts.stdout, Stderr: ts.stderr})
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = s
	t.Cleanup(func() { s.Close() })
	if s.pre == nil {
		t.Fatal("no JVM was started before /init")
	}
	pid := s.pre.pid
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), "WispLauncher") {
		t.Fatalf("process %d before /init = %q, %v; want the JVM running WispLauncher\nstderr: %s\nstdout: %s", pid, cmdline, err, ts.stderr.String(), ts.stdout.String())
	}
	jar := javaJar(t, "Main", `public class Main {
    public static com.google.gson.JsonObject main(com.google.gson.JsonObject a) {
        a.addProperty("env", System.getenv("GREETING"));
        return a;
    }
}`)
	ts.mustInit(t, map[string]any{"code": jar, "binary": true, "env": map[string]any{"GREETING": "hi"}})
	if got := s.Pid(); got != pid {
		t.Fatalf("/init runs the action in process %d, not in the JVM started ahead (%d)", got, pid)
	}
	status, body := ts.post(t, "/run", map[string]any{"value": map[string]any{"n": 1}})
	if status != http.StatusOK || !jsonEqual(body, `{"n":1,"env":"hi"}`) {
		t.Fatalf("run = %d %s\nstderr:\n%s", status, body, ts.stderr.String())
	}
}

// TestJavaInitErrors: a jar without the class or the method fails /init
// with OpenWhisk's Java message naming it; code that is not base64 too.
func TestJavaInitErrors(t *testing.T) {
	cp := javaClassPath(t)
	jar := javaJar(t, "Hello", `public class Hello {
    public static com.google.gson.JsonObject main(com.google.gson.JsonObject a) { return a; }
    public com.google.gson.JsonObject notStatic(com.google.gson.JsonObject a) { return a; }
}`)
	for _, tt := range []struct {
		name, main, code, want string
	}{
		{"missing class", "Nope", jar, "An error has occurred (see logs for details): java.lang.ClassNotFoundException: Nope"},
		{"missing method", "Hello#other", jar, "java.lang.NoSuchMethodException: Hello.other"},
		{"not static", "Hello#notStatic", jar, "must be public static JsonObject notStatic(JsonObject)"},
		{"not base64", "Hello", "%%%" + base64.StdEncoding.EncodeToString([]byte("x")), "An error has occurred (see logs for details): decode base64 code"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{Runtime: RuntimeJava, WorkDir: filepath.Join(t.TempDir(), "w"), ClassPath: cp})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ts := &testServer{Server: s}
			status, body := ts.post(t, "/init", map[string]any{"value": map[string]any{"code": tt.code, "binary": true, "main": tt.main}})
			if status != http.StatusBadGateway || !strings.Contains(body, tt.want) {
				t.Fatalf("init = %d %s, want 502 with %q", status, body, tt.want)
			}
		})
	}
}
