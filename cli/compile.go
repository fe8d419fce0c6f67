package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/wispio/wisp/actions/proxy"
)

// Artifacts compiled ahead by `action create` and `action update`, so that
// no container compiles them: a .go file becomes the executable the go
// runtime would build at /init (linux, this machine's architecture, no
// cgo), when `go` is on PATH; a .java file becomes a jar of its classes,
// compiled against Gson (gsonJar) with `javac`, which must be on PATH. Set
// WISP_NO_PRECOMPILE=1 to send a .go file as source.

// gsonJar is where Debian's libgoogle-gson-java puts Gson.
const gsonJar = "/usr/share/java/gson.jar"

// precompileGo builds the Go source file src with entry function main
// (default main) into an executable; ok is false when Go is not at hand or
// precompiling is switched off, and the source goes as it is.
func precompileGo(ctx context.Context, src, main string) (exe []byte, ok bool, err error) {
	gobin, lerr := exec.LookPath("go")
	if lerr != nil || os.Getenv("WISP_NO_PRECOMPILE") != "" {
		return nil, false, nil
	}
	dir, err := os.MkdirTemp("", "wisp-go-action-")
	if err != nil {
		return nil, false, err
	}
	defer os.RemoveAll(dir)
	code, err := os.ReadFile(src)
	if err != nil {
		return nil, false, fmt.Errorf("read action code: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "action.go"), code, 0o644); err != nil {
		return nil, false, err
	}
	if main == "" {
		main = "main"
	}
	ver, err := exec.CommandContext(ctx, gobin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, false, fmt.Errorf("go env GOVERSION: %w", err)
	}
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(ver)), "go"), ".", 3)
	if len(parts) < 2 {
		return nil, false, fmt.Errorf("go version %q: no major.minor", ver)
	}
	if err := proxy.PrepareGoSources(dir, main, parts[0]+"."+parts[1]); err != nil {
		return nil, false, err
	}
	out := filepath.Join(dir, "exec")
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, false, fmt.Errorf("compile %s: %s", src, strings.TrimSpace(string(b)))
	}
	exe, err = os.ReadFile(out)
	return exe, err == nil, err
}

// compileJava compiles the Java source file src into a jar of its classes.
func compileJava(ctx context.Context, src string) ([]byte, error) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		return nil, usageError{"a .java artifact is compiled here with javac, which is not on PATH; pass a .jar instead"}
	}
	dir, err := os.MkdirTemp("", "wisp-java-action-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if b, err := exec.CommandContext(ctx, javac, "--release", "17", "-cp", gsonJar, "-d", dir, src).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compile %s: %s", src, strings.TrimSpace(string(b)))
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("jar the classes of %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
