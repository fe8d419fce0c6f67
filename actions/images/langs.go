package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/actions/proxy"
)

// Where the generated files go in the java and go images.
const (
	javaLauncherDir = "/usr/lib/wisp/java"
	goCacheSeedDir  = "/usr/lib/wisp/go/cache"
)

// JavaRuntime describes the java image: the JVM of javaHome (its lib and
// conf folders, without the compiler's and sources' files), Gson's jar at
// its host path, and the launcher compiled here with javaHome's javac.
// False when javaHome has no java or javac, or gson is missing.
func JavaRuntime(kind, image, javaHome, gson string) (Runtime, bool) {
	java, javac := filepath.Join(javaHome, "bin", "java"), filepath.Join(javaHome, "bin", "javac")
	if !fileExists(java) || !fileExists(javac) {
		return Runtime{}, false
	}
	gson, err := filepath.EvalSymlinks(gson)
	if err != nil || !fileExists(gson) {
		return Runtime{}, false
	}
	sum := sha256.Sum256([]byte(proxy.JavaLauncher))
	return Runtime{
		Kind: kind, Image: image, Proxy: proxy.RuntimeJava, Interpreter: java,
		Files:    []string{gson},
		Trees:    []string{filepath.Join(javaHome, "lib"), filepath.Join(javaHome, "conf")},
		Skip:     []string{"/lib/src.zip", "/lib/ct.sym", "_xawt.so", "libjawt.so", "libsplashscreen.so", "libjsound.so", "libatk-wrapper.so"},
		TreeLibs: true,
		Args:     []string{"--classpath", javaLauncherDir + ":" + gson},
		Generate: func(ctx context.Context, dir string) error {
			return compileJavaLauncher(ctx, javac, gson, filepath.Join(dir, javaLauncherDir))
		},
		GenerateKey: "java launcher " + hex.EncodeToString(sum[:8]),
	}, true
}

// compileJavaLauncher compiles proxy.JavaLauncher into out.
func compileJavaLauncher(ctx context.Context, javac, gson, out string) error {
	src, err := os.MkdirTemp("", "wisp-java-launcher-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	file := filepath.Join(src, "WispLauncher.java")
	if err := os.WriteFile(file, []byte(proxy.JavaLauncher), 0o644); err != nil {
		return err
	}
	if b, err := exec.CommandContext(ctx, javac, "--release", "11", "-cp", gson, "-d", out, file).CombinedOutput(); err != nil {
		return fmt.Errorf("javac: %w: %s", err, b)
	}
	return nil
}

// goSeedImports are the packages whose compiled form the go image carries,
// besides the launcher's: what small actions commonly import.
var goSeedImports = []string{
	"bytes", "context", "crypto/hmac", "crypto/sha256", "encoding/base64", "encoding/hex", "errors", "io",
	"log", "math", "net/http", "net/url", "regexp", "sort", "strconv", "sync", "time",
}

// GoRuntime describes the go image: the toolchain at goroot (the standard
// library's sources without tests, the compiler, linker and assembler) and
// a build cache seeded here by compiling the launcher and goSeedImports with
// the flags the proxy uses, so that /init compiles only the action. False
// when goroot has no bin/go.
func GoRuntime(kind, image, goroot string) (Runtime, bool) {
	gobin := filepath.Join(goroot, "bin", "go")
	if !fileExists(gobin) {
		return Runtime{}, false
	}
	tools, err := filepath.Glob(filepath.Join(goroot, "pkg", "tool", "*_*"))
	if err != nil || len(tools) == 0 {
		return Runtime{}, false
	}
	var files []string
	for _, t := range []string{"compile", "link", "asm", "buildid", "pack", "cgo"} {
		if p := filepath.Join(tools[0], t); fileExists(p) {
			files = append(files, p)
		}
	}
	for _, f := range []string{"VERSION", "go.env"} {
		if p := filepath.Join(goroot, f); fileExists(p) {
			files = append(files, p)
		}
	}
	sum := sha256.Sum256([]byte(proxy.GoLauncher + strings.Join(goSeedImports, ",")))
	return Runtime{
		Kind: kind, Image: image, Proxy: proxy.RuntimeGo, Interpreter: gobin,
		Files: files,
		Trees: []string{filepath.Join(goroot, "src"), filepath.Join(goroot, "pkg", "include")},
		Skip:  []string{"/testdata/", "_test.go", filepath.Join(goroot, "src", "cmd") + "/"},
		Args:  []string{"--go-cache-seed", goCacheSeedDir},
		Generate: func(ctx context.Context, dir string) error {
			return seedGoCache(ctx, gobin, filepath.Join(dir, goCacheSeedDir))
		},
		GenerateKey: "go seed " + hex.EncodeToString(sum[:8]),
	}, true
}

// seedGoCache builds the launcher with a Main using goSeedImports into
// the cache folder out, as the proxy's builds do (buildGo).
func seedGoCache(ctx context.Context, gobin, out string) error {
	src, err := os.MkdirTemp("", "wisp-go-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, imp := range goSeedImports {
		fmt.Fprintf(&b, "\t_ %q\n", imp)
	}
	b.WriteString(")\n\nfunc Main(obj map[string]interface{}) map[string]interface{} { return obj }\n")
	files := map[string]string{"action.go": b.String(), "main__.go": proxy.GoLauncher, "go.mod": "module exec\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(src, "exec"), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOCACHE="+out, "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTELEMETRY=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("seed the Go build cache: %w: %s", err, b)
	}
	return nil
}

// RubyRuntime describes the ruby image from the interpreter at ruby and
// the folders of its load path and gems; false when ruby is absent.
func RubyRuntime(kind, image, ruby string) (Runtime, bool) {
	out, err := exec.Command(ruby, "-e", "puts $LOAD_PATH, Gem.path, Gem.default_dir").Output()
	if err != nil {
		return Runtime{}, false
	}
	return Runtime{Kind: kind, Image: image, Proxy: proxy.RuntimeRuby, Interpreter: ruby,
		Trees: topFolders(strings.Fields(string(out))), TreeLibs: true}, true
}

// PHPRuntime describes the php image from the interpreter at php, its
// extension folder and its configuration; false when php is absent.
func PHPRuntime(kind, image, php string) (Runtime, bool) {
	out, err := exec.Command(php, "-r", `echo PHP_EXTENSION_DIR, "\n", dirname(php_ini_loaded_file() ?: "/nonexistent/x"), "\n";`).Output()
	if err != nil {
		return Runtime{}, false
	}
	dirs := strings.Fields(string(out))
	if len(dirs) == 2 {
		dirs = append(dirs, filepath.Join(filepath.Dir(dirs[1]), "mods-available")) // conf.d links here
	}
	dirs = append(dirs, "/usr/share/zoneinfo") // Debian's PHP reads the system's time zones
	return Runtime{Kind: kind, Image: image, Proxy: proxy.RuntimePHP, Interpreter: php,
		Trees: topFolders(dirs), TreeLibs: true}, true
}

// topFolders keeps the existing folders of dirs that are not inside
// another one of them.
func topFolders(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		inside := false
		for _, o := range dirs {
			if o != d && strings.HasPrefix(d, o+"/") {
				if st, err := os.Stat(o); err == nil && st.IsDir() {
					inside = true
				}
			}
		}
		if !inside && !contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ForKinds lists the images to build for the kinds of kinds that have an
// image, from this machine's toolchains: Node.js from the host's node,
// Python from /usr/bin/python3 with its standard library, native with the C
// library /bin/sh links, java from the JDK of /usr/bin/java with
// /usr/share/java/gson.jar (Debian's libgoogle-gson-java), go from
// /usr/local/go, ruby and php from /usr/bin. A kind whose toolchain is
// missing is left out.
func ForKinds(kinds *actions.Kinds) []Runtime {
	var out []Runtime
	add := func(kind string, make func(rt actions.Runtime) (Runtime, bool)) {
		if rt, ok := kinds.Get(kind); ok && rt.Image != "" {
			if r, ok := make(rt); ok {
				out = append(out, r)
			}
		}
	}
	add("nodejs:20", func(rt actions.Runtime) (Runtime, bool) {
		return Runtime{Kind: rt.Kind, Image: rt.Image, Proxy: proxy.RuntimeNodeJS, Interpreter: "node"}, true
	})
	add("python:3", func(rt actions.Runtime) (Runtime, bool) { return PythonRuntime(rt.Kind, rt.Image, "/usr/bin/python3") })
	add("native", func(rt actions.Runtime) (Runtime, bool) { return NativeRuntime(rt.Kind, rt.Image, "/bin/sh") })
	add("java:17", func(rt actions.Runtime) (Runtime, bool) {
		java, err := filepath.EvalSymlinks("/usr/bin/java")
		if err != nil {
			return Runtime{}, false
		}
		return JavaRuntime(rt.Kind, rt.Image, filepath.Dir(filepath.Dir(java)), "/usr/share/java/gson.jar")
	})
	add(actions.GoKind(), func(rt actions.Runtime) (Runtime, bool) { return GoRuntime(rt.Kind, rt.Image, "/usr/local/go") })
	add("ruby:3", func(rt actions.Runtime) (Runtime, bool) { return RubyRuntime(rt.Kind, rt.Image, "/usr/bin/ruby") })
	add("php:8", func(rt actions.Runtime) (Runtime, bool) {
		php, err := filepath.EvalSymlinks("/usr/bin/php")
		if err != nil {
			return Runtime{}, false
		}
		return PHPRuntime(rt.Kind, rt.Image, php)
	})
	return out
}
