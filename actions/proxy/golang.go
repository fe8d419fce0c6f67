package proxy

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Go runtime takes what apache/openwhisk-runtime-go's actionloop-golang
// takes: one Go source file in package main with
//
//	func Main(obj map[string]interface{}) map[string]interface{}
//
// (main "hello" means func Hello), a zip of sources with or without go.mod
// (and a vendor folder for dependencies), or a binary: an executable, or a
// zip with one named exec at its root, which runs as it is. Sources are
// compiled at /init with the Go toolchain the image carries; a package main
// with its own func main() is taken as an ActionLoop program and gets no
// launcher. Builds are offline (GOPROXY=off, GOFLAGS=-mod=mod, or
// -mod=vendor when the zip has vendor/) unless the action's init env sets
// GOPROXY. The build cache starts from Config.GoCacheSeed, the standard
// library compiled when the image was built.

//go:embed launcher_go.txt
var launcherGo string

// GoLauncher is the source of the launcher the Go runtime adds to sources
// without a func main (its entry function is called Main); the go image
// compiles it once to seed the build cache.
var GoLauncher = launcherGo

var elfMagic = []byte("\x7fELF")

// hasMainFunc finds a package main with a func main() of its own.
var hasMainFunc = regexp.MustCompile(`(?s)^(.*\n)?\s*package\s+main\b.*\nfunc\s+main\s*\(\s*\)`)

// buildGo returns the executable for the code written at entry (a source
// file, or the folder of an unpacked zip), compiling it when it is source.
func buildGo(ctx context.Context, s *Server, entry, main string, env []string) (string, error) {
	dir := s.codeDir()
	exe := filepath.Join(dir, nativeExec)
	if st, err := os.Stat(entry); err == nil && !st.IsDir() {
		if isELF(entry) {
			return exe, os.Rename(entry, exe)
		}
	} else if isELF(exe) {
		return exe, os.Chmod(exe, 0o755)
	}
	if err := PrepareGoSources(dir, main, goLanguage(s.interp)); err != nil {
		return "", err
	}
	cache, err := s.goCache()
	if err != nil {
		return "", err
	}
	out := filepath.Join(s.cfg.WorkDir, "exec.build")
	cmd := exec.CommandContext(ctx, s.interp, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = goBuildEnv(env, s.cfg.WorkDir, cache, isDir(filepath.Join(dir, "vendor")))
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := s.adjust(cmd); err != nil {
		return "", err
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(output.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", errors.New(truncate([]byte(msg), 4000))
	}
	if err := os.Rename(out, exe); err != nil {
		return "", fmt.Errorf("move the binary: %w", err)
	}
	s.compiled.Store(true)
	return exe, nil
}

// PrepareGoSources readies the Go sources in dir to be built into an
// action's executable as the Go runtime builds them: the launcher calling
// the function main names, unless a source has its own func main, and a
// go.mod for language version goVersion ("1.26") when there is none. `wisp
// action create` uses it to compile a .go artifact ahead.
func PrepareGoSources(dir, main, goVersion string) error {
	if err := addGoLauncher(dir, main); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); errors.Is(err, fs.ErrNotExist) {
		mod := "module exec\n\ngo " + goVersion + "\n"
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
			return fmt.Errorf("write go.mod: %w", err)
		}
	}
	return nil
}

// addGoLauncher writes the launcher beside the sources unless one of them
// has its own func main.
func addGoLauncher(dir, main string) error {
	var own bool
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || own {
			return err
		}
		if d.IsDir() && (d.Name() == "vendor" || (p != dir && d.Name() != "main")) {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			own = hasMainFunc.Match(b)
		}
		return nil
	})
	if err != nil || own {
		return err
	}
	fn := goEntry(main)
	if !isIdent(fn) {
		return fmt.Errorf("the main function %q is not a Go identifier", main)
	}
	src := strings.Replace(launcherGo, "reflect.ValueOf(Main)", "reflect.ValueOf("+fn+")", 1)
	target := filepath.Join(dir, "main__.go")
	if isDir(filepath.Join(dir, "main")) {
		target = filepath.Join(dir, "main", "main__.go")
	}
	return os.WriteFile(target, []byte(src), 0o644)
}

// goEntry is the function main names: capitalised, as the Go runtime does
// ("main" → "Main", "hello" → "Hello").
func goEntry(main string) string {
	r, n := utf8.DecodeRuneInString(main)
	return string(unicode.ToUpper(r)) + main[n:]
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return s != ""
}

// goBuildEnv is the build's environment: the action's (for GOPROXY and
// the like) with a private GOPATH, the cache, no cgo and no toolchain
// switch.
func goBuildEnv(env []string, work, cache string, vendor bool) []string {
	out := append([]string(nil), env...)
	mod := "-mod=mod"
	if vendor {
		mod = "-mod=vendor"
	}
	out = append(out, "HOME="+work, "GOPATH="+filepath.Join(work, "gopath"), "GOCACHE="+cache,
		"CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS="+mod, "GOTELEMETRY=off")
	if lastEnv(env, "GOPROXY") == "" {
		out = append(out, "GOPROXY=off")
	}
	return out
}

// goCache makes the build cache: a writable folder of links to the seed's
// files, so that the seed's packages are found and new ones can be added.
func (s *Server) goCache() (string, error) {
	cache := filepath.Join(s.cfg.WorkDir, "gocache")
	if s.cfg.GoCacheSeed == "" || isDir(cache) {
		return cache, os.MkdirAll(cache, 0o755)
	}
	seed := s.cfg.GoCacheSeed
	err := filepath.WalkDir(seed, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(seed, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(cache, rel), 0o755)
		}
		return os.Symlink(p, filepath.Join(cache, rel))
	})
	if err != nil {
		return "", fmt.Errorf("seed the Go build cache: %w", err)
	}
	return cache, nil
}

// goLanguage is the toolchain's language version ("1.26" of go1.26.8),
// from GOROOT/VERSION beside bin/go; "1.21" when it cannot tell.
func goLanguage(gobin string) string {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(gobin)), "VERSION"))
	v, _, _ := strings.Cut(strings.TrimPrefix(string(b), "go"), "\n")
	parts := strings.Split(v, ".")
	if err != nil || len(parts) < 2 {
		return "1.21"
	}
	return parts[0] + "." + parts[1]
}

func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 4)
	n, _ := f.Read(b)
	return n == 4 && bytes.Equal(b, elfMagic)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
