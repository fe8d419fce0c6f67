package proxy

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// initRequest is the body of POST /init.
type initRequest struct {
	Value initValue `json:"value"`
}

// initValue describes the action to run.
type initValue struct {
	Name   string                     `json:"name"`
	Main   string                     `json:"main"`
	Code   string                     `json:"code"`
	Binary bool                       `json:"binary"`
	Env    map[string]json.RawMessage `json:"env"`
}

// parseInit decodes an /init body; main defaults to "main".
func parseInit(body []byte) (*initRequest, error) {
	var req initRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if req.Value.Main == "" {
		req.Value.Main = "main"
	}
	return &req, nil
}

var zipMagic = []byte("PK\x03\x04")

// errDecode marks binary code that is not valid base64.
var errDecode = errors.New("decode base64 code")

// decodeCode returns the action's code and whether it is a zip archive. Code
// is a zip if it decodes from base64 to bytes starting with the zip magic,
// whatever binary says; binary code that decodes to something else is
// source, like the actionloop proxy treats it.
func decodeCode(code string, binary bool) (data []byte, isZip bool, err error) {
	// base64 of "PK\x03\x04" always starts with "UEsDB"
	if !binary && !strings.HasPrefix(strings.TrimSpace(code), "UEsDB") {
		return []byte(code), false, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(code))
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimSpace(code))
	}
	switch {
	case err != nil && binary:
		return nil, false, fmt.Errorf("%w: %w", errDecode, err)
	case err != nil:
		return []byte(code), false, nil
	case bytes.HasPrefix(raw, zipMagic):
		return raw, true, nil
	case binary:
		return raw, false, nil
	}
	return []byte(code), false, nil
}

// zipLimits bound what unzip may write.
type zipLimits struct {
	maxBytes int64
	maxFiles int
}

// unzip extracts the archive into dir, which must exist and be empty. It
// refuses entries that would land outside dir, skips symbolic links and
// special files, and stops at the limits, counting bytes actually written.
// The entry named executable (a relative path; "" for none) is written as
// writeExecutable does.
func unzip(data []byte, dir string, lim zipLimits, executable string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("read zip: %w", err)
	}
	if len(zr.File) > lim.maxFiles {
		return fmt.Errorf("zip has %d entries, more than the limit of %d", len(zr.File), lim.maxFiles)
	}
	remaining := lim.maxBytes
	for _, f := range zr.File {
		rel, err := safeZipPath(f.Name)
		if err != nil {
			return err
		}
		if rel == "" {
			continue
		}
		target := filepath.Join(dir, rel)
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("unzip %s: %w", f.Name, err)
			}
		case mode.IsRegular():
			n, err := extractFile(f, target, remaining, rel == filepath.FromSlash(executable))
			if err != nil {
				return fmt.Errorf("unzip %s: %w", f.Name, err)
			}
			remaining -= n
		default: // symlinks and devices could point outside dir
		}
	}
	return nil
}

// safeZipPath turns an entry name into a clean relative path inside the
// archive root, or fails for names that leave it.
func safeZipPath(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.ContainsRune(n, 0) || strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return "", fmt.Errorf("zip entry %q: absolute path", name)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("zip entry %q: path leaves the archive", name)
		}
	}
	clean := path.Clean(n)
	if clean == "." {
		return "", nil
	}
	return filepath.FromSlash(clean), nil
}

// extractFile writes one regular entry, at most budget bytes; an executable
// is written as writeExecutable does.
func extractFile(f *zip.File, target string, budget int64, executable bool) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	perm := f.Mode().Perm()&0o755 | 0o600
	if executable {
		perm = 0o755
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n > budget {
		return n, errors.New("archive exceeds the uncompressed size limit")
	}
	return n, nil
}

// writeExecutable writes a file to be executed, mode 0755. It holds off
// forks meanwhile: a child forked while the file is open for writing would
// hold it open until it execs, and starting the file then fails with "text
// file busy" (ETXTBSY; golang.org/issue/22315).
func writeExecutable(path string, data []byte) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// missingEntryError reports an archive without the file the runtime starts.
type missingEntryError struct{ name string }

func (e *missingEntryError) Error() string {
	return "the zip has no file named " + e.name + " at its root"
}

// writeCode puts the action's code in the empty directory dir and returns the
// entry the launcher loads: the source file, or for a zip the directory
// (Node.js) or its __main__.py (Python). For the native runtime the entry is
// the executable exec, the code itself or the zip's exec, which must exist.
func writeCode(d *dialect, dir string, data []byte, isZip bool, lim zipLimits) (string, error) {
	if !isZip {
		entry := filepath.Join(dir, d.sourceFile)
		var err error
		if d.executable {
			err = writeExecutable(entry, data)
		} else {
			err = os.WriteFile(entry, data, 0o644)
		}
		if err != nil {
			return "", fmt.Errorf("write action source: %w", err)
		}
		return entry, nil
	}
	var executable string
	if d.executable {
		executable = d.zipEntry
	}
	if err := unzip(data, dir, lim, executable); err != nil {
		return "", err
	}
	if d.zipEntry == "" {
		return dir, nil
	}
	entry := filepath.Join(dir, d.zipEntry)
	if d.executable {
		if st, err := os.Stat(entry); err != nil || !st.Mode().IsRegular() {
			return "", &missingEntryError{d.zipEntry}
		}
	}
	return entry, nil
}

// resetDir makes dir exist and be empty.
func resetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}
