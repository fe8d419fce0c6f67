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

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	dclient "github.com/docker/docker/client"
)

// labelHash names the label that records an image's content hash.
const labelHash = "wisp.runtime.hash"

// Runtime describes one runtime image: its kind, the proxy's runtime name
// and the interpreter to copy from the host.
type Runtime struct {
	Kind        string // "nodejs:20"
	Image       string // "wisp/action-nodejs-v20"
	Proxy       string // "nodejs" or "python"
	Interpreter string // "node" or "python3", looked up in PATH
	// Trees are folders copied whole (a Python standard library).
	Trees []string
}

// Ensure builds the image of r unless an image with the same content hash
// exists. wispBin is the wisp binary that runs the action proxy.
func Ensure(ctx context.Context, api *dclient.Client, r Runtime, wispBin string) error {
	interp, err := exec.LookPath(r.Interpreter)
	if err != nil {
		return fmt.Errorf("runtime %s: %s not found: %w", r.Kind, r.Interpreter, err)
	}
	if interp, err = filepath.EvalSymlinks(interp); err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	bins := []string{interp, wispBin}
	for _, t := range r.Trees {
		libs, err := filepath.Glob(filepath.Join(t, "lib-dynload", "*.so"))
		if err != nil {
			return fmt.Errorf("runtime %s: %w", r.Kind, err)
		}
		bins = append(bins, libs...) // extension modules bring their own libraries
	}
	files, err := closure(bins...)
	if err != nil {
		return fmt.Errorf("runtime %s: %w", r.Kind, err)
	}
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY . /\nENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8\nENTRYPOINT [\"/wisp\", \"action-proxy\", \"--runtime\", %q, \"--interpreter\", %q]\n", r.Proxy, interp)
	hash, err := contentHash(dockerfile, files, r.Trees, wispBin)
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
	var buf bytes.Buffer
	if err := writeContext(&buf, dockerfile, files, r.Trees, wispBin); err != nil {
		return fmt.Errorf("runtime %s: build context: %w", r.Kind, err)
	}
	resp, err := api.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{r.Image}, Remove: true, ForceRemove: true, Labels: map[string]string{labelHash: hash},
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
func writeContext(w io.Writer, dockerfile string, files, trees []string, wispBin string) error {
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
	for _, t := range trees {
		err := filepath.WalkDir(t, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(p, "__pycache__") {
				return err
			}
			if d.Type()&os.ModeSymlink != 0 {
				if _, err := os.Stat(p); err != nil {
					return nil // a dangling link
				}
			}
			return addFile(tw, strings.TrimPrefix(p, "/"), p)
		})
		if err != nil {
			return err
		}
	}
	return tw.Close()
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
