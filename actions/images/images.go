package images

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	dclient "github.com/docker/docker/client"
)

// labelHash names the label that records an image's content hash.
const labelHash = "wisp.runtime.hash"

// labelProxy names the label that records the hash of the wisp binary the
// image's action proxy is (ProxyHash), so that a wisp without the
// interpreters (the FROM-scratch image) can tell an image built from its
// own binary (Prebuilt).
const labelProxy = "wisp.runtime.proxy"

// Runtime describes one runtime image: its kind, the proxy's runtime name
// and the interpreter to copy from the host.
type Runtime struct {
	Kind        string // "nodejs:20"
	Image       string // "wisp/action-nodejs-v20"
	Proxy       string // "nodejs", "python" or "native"
	Interpreter string // "node" or "python3", looked up in PATH; "" for none
	// Files are more host files copied, with the libraries they load (the C
	// library of the native image).
	Files []string
	// Trees are folders copied whole (a Python standard library), but
	// for the files whose path contains one of Skip.
	Trees []string
	Skip  []string
	// TreeLibs has every shared object in the trees bring the libraries
	// it loads (a JDK's lib folder); otherwise only Python's lib-dynload.
	TreeLibs bool
	// Args are more arguments of the proxy (--classpath for java).
	Args []string
	// Generate, when set, writes more files into an empty folder whose
	// content goes to the image's root (a compiled launcher); it runs only
	// when the image is built. GenerateKey stands for its output in the
	// content hash.
	Generate    func(ctx context.Context, dir string) error
	GenerateKey string
}

// Ensure builds the image of r unless an image with the same content hash
// exists. wispBin is the wisp binary that runs the action proxy.
func Ensure(ctx context.Context, api *dclient.Client, r Runtime, wispBin string) error {
	interp, err := findInterpreter(r.Interpreter)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	bins := append([]string{wispBin}, r.Files...)
	if interp != "" {
		bins = append(bins, interp)
	}
	libs, err := treeLibs(r)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	bins = append(bins, libs...) // extension modules bring their own libraries
	files, err := closure(bins...)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	entry := fmt.Sprintf(`"/wisp", "action-proxy", "--runtime", %q`, r.Proxy)
	if interp != "" {
		entry += fmt.Sprintf(`, "--interpreter", %q`, interp)
	}
	for _, a := range r.Args {
		entry += fmt.Sprintf(", %q", a)
	}
	dockerfile := "FROM scratch\nCOPY . /\nENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8\nENTRYPOINT [" + entry + "]\n"
	// labelProxy is in the hash, so that images built before it carried
	// that label are built again.
	hash, err := contentHash(dockerfile+r.GenerateKey+strings.Join(r.Skip, "\n")+"\nlabel "+labelProxy, files, r.Trees, wispBin)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	proxyHash, err := ProxyHash(wispBin)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	var previous string
	if inspect, err := api.ImageInspect(ctx, r.Image); err == nil {
		if inspect.Config != nil && inspect.Config.Labels[labelHash] == hash {
			return nil
		}
		previous = inspect.ID
	}
	trees := r.Trees
	if r.Generate != nil {
		dir, err := os.MkdirTemp("", "wisp-runtime-")
		if err != nil {
			return fmt.Errorf("runtime %s: %w", r.Kind, err)
		}
		defer os.RemoveAll(dir)
		if err := r.Generate(ctx, dir); err != nil {
			return fmt.Errorf("runtime %s: generate: %w", r.Kind, err)
		}
		trees = append(append([]string(nil), trees...), dir)
	}
	var buf bytes.Buffer
	if err := writeContext(&buf, dockerfile, files, trees, r.Skip, wispBin, r.Generate != nil); err != nil {
		return fmt.Errorf("runtime %s: build context: %w", r.Kind, err)
	}
	resp, err := api.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{r.Image}, Remove: true, ForceRemove: true, Labels: map[string]string{labelHash: hash, labelProxy: proxyHash},
	})
	if err != nil {
		return fmt.Errorf("runtime %s: build image: %w", r.Kind, err)
	}
	defer resp.Body.Close()
	if err := buildResult(resp.Body); err != nil {
		return err
	}
	if previous != "" {
		// The stale image, untagged now; an engine still running containers
		// of it refuses, and it goes with a later rebuild.
		_, _ = api.ImageRemove(ctx, previous, image.RemoveOptions{})
	}
	return nil
}

// ProxyHash identifies the wisp binary at wispBin by its bytes, as the
// runtime images built from it record it.
func ProxyHash(wispBin string) (string, error) {
	f, err := os.Open(wispBin)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", wispBin, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Prebuilt looks for a runtime image built beforehand (by Ensure, say `wisp
// runtimes build` or `make image` on the engine's host) where this machine
// cannot build it: found when the engine has image and Ensure built it (it
// carries the content hash label); same when its action proxy is the wisp
// binary at wispBin, byte for byte.
func Prebuilt(ctx context.Context, api *dclient.Client, image, wispBin string) (found, same bool, err error) {
	inspect, err := api.ImageInspect(ctx, image)
	if cerrdefs.IsNotFound(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("inspect image %s: %w", image, err)
	}
	if inspect.Config == nil || inspect.Config.Labels[labelHash] == "" {
		return false, false, nil
	}
	want, err := ProxyHash(wispBin)
	if err != nil {
		return true, false, err
	}
	return true, inspect.Config.Labels[labelProxy] == want, nil
}

// findInterpreter resolves name in PATH and its links; "" for none.
func findInterpreter(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: %w", name, err)
	}
	return filepath.EvalSymlinks(path)
}

// buildResult reads the engine's build stream and returns its error, if any.
func buildResult(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if msg.Error != "" {
			return fmt.Errorf("build image: %s", msg.Error)
		}
	}
}

// closure lists the binaries and every shared library they load (ldd).
func closure(bins ...string) ([]string, error) {
	seen := map[string]bool{}
	for _, bin := range bins {
		seen[bin] = true
		out, err := exec.Command("ldd", bin).Output()
		if err != nil {
			// A static binary: ldd says "not a dynamic executable".
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			for _, f := range strings.Fields(sc.Text()) {
				if strings.HasPrefix(f, "/") {
					seen[f] = true
				}
			}
		}
	}
	files := make([]string, 0, len(seen))
	for f := range seen {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, nil
}

// contentHash identifies an image's content: system files by path, size
// and modification time, the wisp binary by its bytes (a rebuild of the
// same source is the same binary and needs no new image).
func contentHash(dockerfile string, files, trees []string, wispBin string) (string, error) {
	h := sha256.New()
	io.WriteString(h, dockerfile)
	w, err := os.Open(wispBin)
	if err != nil {
		return "", err
	}
	defer w.Close()
	if _, err := io.Copy(h, w); err != nil {
		return "", fmt.Errorf("hash %s: %w", wispBin, err)
	}
	for _, f := range files {
		if f == wispBin {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d %d\n", f, st.Size(), st.ModTime().UnixNano())
	}
	for _, t := range trees {
		fmt.Fprintf(h, "tree %s\n", t)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// writeContext writes the build context: the Dockerfile, every file at its
// host path (links resolved), the trees, and the wisp binary as /wisp.
// With generated, the last tree is the generated folder, written at the
// image's root.
func writeContext(w io.Writer, dockerfile string, files, trees, skip []string, wispBin string, generated bool) error {
	tw := tar.NewWriter(w)
	if err := addBytes(tw, "Dockerfile", []byte(dockerfile), 0o644); err != nil {
		return err
	}
	if err := addFile(tw, "wisp", wispBin); err != nil {
		return err
	}
	for _, f := range files {
		if f == wispBin {
			continue
		}
		if err := addFile(tw, strings.TrimPrefix(f, "/"), f); err != nil {
			return err
		}
	}
	for i, t := range trees {
		root := "/"
		if generated && i == len(trees)-1 {
			root = t
		}
		err := filepath.WalkDir(t, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(p, "__pycache__") || skipped(p, skip) {
				return err
			}
			if d.Type()&os.ModeSymlink != 0 {
				if st, err := os.Stat(p); err != nil || st.IsDir() {
					return nil // a dangling link, or one to a folder
				}
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			return addFile(tw, rel, p)
		})
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// skipped reports whether p contains one of skip.
func skipped(p string, skip []string) bool {
	for _, s := range skip {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}

// treeLibs lists the shared objects of r's trees whose libraries the image
// needs: with TreeLibs every one, otherwise Python's lib-dynload ones.
func treeLibs(r Runtime) ([]string, error) {
	var libs []string
	for _, t := range r.Trees {
		if !r.TreeLibs {
			l, err := filepath.Glob(filepath.Join(t, "lib-dynload", "*.so"))
			if err != nil {
				return nil, err
			}
			libs = append(libs, l...)
			continue
		}
		err := filepath.WalkDir(t, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && (strings.HasSuffix(p, ".so") || strings.Contains(filepath.Base(p), ".so.")) && !skipped(p, r.Skip) {
				libs = append(libs, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return libs, nil
}

func addFile(tw *tar.Writer, name, path string) error {
	data, err := os.ReadFile(path) // follows links
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return addBytes(tw, name, data, int64(st.Mode().Perm()))
}

func addBytes(tw *tar.Writer, name string, data []byte, mode int64) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// PythonRuntime describes the python:3 image from the interpreter at
// python (a system Python, not a version-manager shim) and its standard
// library; false when that interpreter is absent.
func PythonRuntime(kind, image, python string) (Runtime, bool) {
	out, err := exec.Command(python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])").Output()
	if err != nil {
		return Runtime{}, false
	}
	return Runtime{Kind: kind, Image: image, Proxy: "python", Interpreter: python, Trees: []string{strings.TrimSpace(string(out))}}, true
}

// NativeRuntime describes the native image: the wisp binary and this
// machine's C library, found by ldd on shell (a dynamically linked program,
// /bin/sh): its dynamic loader, libc and the small libraries glibc once
// split off (libm, libpthread, libdl, librt), so that dynamically linked C
// programs built here run too. False when shell shows no C library.
func NativeRuntime(kind, image, shell string) (Runtime, bool) {
	libc := cLibrary(shell)
	if len(libc) == 0 {
		return Runtime{}, false
	}
	return Runtime{Kind: kind, Image: image, Proxy: "native", Files: libc}, true
}

// cLibrary lists the loader and the C library files shell loads, and the
// libraries beside libc that glibc programs may link.
func cLibrary(shell string) []string {
	out, err := exec.Command("ldd", shell).Output()
	if err != nil {
		return nil
	}
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		for _, f := range strings.Fields(sc.Text()) {
			base := filepath.Base(f)
			if !strings.HasPrefix(f, "/") || !(strings.HasPrefix(base, "ld-") || strings.HasPrefix(base, "libc.")) {
				continue
			}
			files = append(files, f)
			if !strings.HasPrefix(base, "libc.") {
				continue
			}
			for _, sib := range []string{"libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1"} {
				if p := filepath.Join(filepath.Dir(f), sib); fileExists(p) {
					files = append(files, p)
				}
			}
		}
	}
	return files
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
