package proxy

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type zipEntry struct {
	name    string
	content string
	mode    fs.FileMode
}

func makeZip(tb testing.TB, entries ...zipEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(e.content)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnzip(t *testing.T) {
	big := strings.Repeat("a", 4096)
	lim := zipLimits{maxBytes: 1024, maxFiles: 5}
	for _, tc := range []struct {
		name    string
		entries []zipEntry
		wantErr string
		files   map[string]string // path → content expected afterwards
	}{
		{name: "files and dirs", entries: []zipEntry{
			{name: "lib/"}, {name: "lib/a.js", content: "A"}, {name: "b/c/d.txt", content: "D"}, {name: "./e", content: "E"},
		}, files: map[string]string{"lib/a.js": "A", "b/c/d.txt": "D", "e": "E"}},
		{name: "parent escape", entries: []zipEntry{{name: "../evil", content: "x"}}, wantErr: "leaves the archive"},
		{name: "inner escape", entries: []zipEntry{{name: "a/../../evil", content: "x"}}, wantErr: "leaves the archive"},
		{name: "backslash escape", entries: []zipEntry{{name: `a\..\..\evil`, content: "x"}}, wantErr: "leaves the archive"},
		{name: "absolute", entries: []zipEntry{{name: "/etc/evil", content: "x"}}, wantErr: "absolute path"},
		{name: "drive letter", entries: []zipEntry{{name: "C:/evil", content: "x"}}, wantErr: "absolute path"},
		{name: "symlink skipped", entries: []zipEntry{
			{name: "link", content: "/etc/passwd", mode: fs.ModeSymlink | 0o777}, {name: "ok", content: "1"},
		}, files: map[string]string{"ok": "1"}},
		{name: "too large", entries: []zipEntry{{name: "big", content: big}}, wantErr: "size limit"},
		{name: "too large in total", entries: []zipEntry{
			{name: "a", content: big[:600]}, {name: "b", content: big[:600]},
		}, wantErr: "size limit"},
		{name: "too many files", entries: []zipEntry{
			{name: "1"}, {name: "2"}, {name: "3"}, {name: "4"}, {name: "5"}, {name: "6"},
		}, wantErr: "more than the limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "code")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			err := unzip(makeZip(t, tc.entries...), dir, lim, "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("unzip: %v, want an error containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unzip: %v", err)
			}
			for p, want := range tc.files {
				got, err := os.ReadFile(filepath.Join(dir, p))
				if err != nil || string(got) != want {
					t.Errorf("%s: %q, %v; want %q", p, got, err, want)
				}
			}
			if _, err := os.Lstat(filepath.Join(dir, "link")); err == nil {
				t.Errorf("symlink was created")
			}
			assertOnlyChild(t, root, "code")
		})
	}
}

func TestUnzipKeepsExecutableBit(t *testing.T) {
	dir := t.TempDir()
	data := makeZip(t, zipEntry{name: "run.sh", content: "#!/bin/sh\n", mode: 0o4755})
	if err := unzip(data, dir, zipLimits{maxBytes: 1 << 20, maxFiles: 10}, ""); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got.Perm()&0o100 == 0 || got&fs.ModeSetuid != 0 {
		t.Fatalf("mode %v, want executable and not setuid", got)
	}
}

func TestDecodeCode(t *testing.T) {
	zipped := makeZip(t, zipEntry{name: "index.js", content: "x"})
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name    string
		code    string
		binary  bool
		want    []byte
		wantZip bool
		wantErr bool
	}{
		{"source", "function main() {}", false, []byte("function main() {}"), false, false},
		{"zip flagged binary", b64(zipped), true, zipped, true, false},
		{"zip not flagged binary", b64(zipped), false, zipped, true, false},
		{"zip with newlines", "\n" + b64(zipped)[:10] + "\n" + b64(zipped)[10:] + "\n", false, zipped, true, false},
		{"zip without padding", strings.TrimRight(b64(zipped), "="), true, zipped, true, false},
		{"binary source", b64([]byte("def main(a): pass")), true, []byte("def main(a): pass"), false, false},
		{"source that looks like base64", "UEsDBfoo + 1;", false, []byte("UEsDBfoo + 1;"), false, false},
		{"bad base64", "%%%", true, nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, isZip, err := decodeCode(tc.code, tc.binary)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, tc.want) || isZip != tc.wantZip {
				t.Fatalf("got %q zip=%v, want %q zip=%v", got, isZip, tc.want, tc.wantZip)
			}
		})
	}
}

func assertOnlyChild(tb testing.TB, root, name string) {
	tb.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		tb.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		tb.Fatalf("%s holds %v, want only %s", root, entries, name)
	}
}

// FuzzInitBody feeds /init bodies through parsing, decoding and writing the
// code, and checks nothing is written outside the code directory.
func FuzzInitBody(f *testing.F) {
	initBody := func(code string, binary bool) []byte {
		b, _ := json.Marshal(map[string]any{"value": map[string]any{"main": "main", "code": code, "binary": binary}})
		return b
	}
	b64 := base64.StdEncoding.EncodeToString
	f.Add(initBody("function main() { return {}; }", false))
	f.Add(initBody(b64(makeZip(f, zipEntry{name: "index.js", content: "exports.main = () => ({})"})), true))
	f.Add(initBody(b64(makeZip(f, zipEntry{name: "../../escape", content: "x"})), true))
	f.Add(initBody(b64(makeZip(f, zipEntry{name: "a/b/", content: ""}, zipEntry{name: "a/b/c", content: "c"})), false))
	f.Add([]byte(`{"value":{"code":"UEsDBA==","binary":true,"env":{"A":1,"B":null}}}`))
	f.Add([]byte(`{"value":5}`))
	f.Add([]byte(`{`))
	lim := zipLimits{maxBytes: 1 << 20, maxFiles: 64}
	d := dialects[RuntimeNodeJS]
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseInit(body)
		if err != nil {
			return
		}
		if req.Value.Main == "" {
			t.Fatal("main not defaulted")
		}
		data, isZip, err := decodeCode(req.Value.Code, req.Value.Binary)
		if err != nil {
			return
		}
		root := t.TempDir()
		dir := filepath.Join(root, "code")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		entry, err := writeCode(d, dir, data, isZip, lim)
		if err == nil && !strings.HasPrefix(entry, dir) {
			t.Fatalf("entry %s outside %s", entry, dir)
		}
		assertOnlyChild(t, root, "code")
		var total int64
		_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type()&fs.ModeSymlink != 0 {
				t.Fatalf("symlink %s written", e.Name())
			}
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				total += info.Size()
			}
			return nil
		})
		if isZip && total > lim.maxBytes {
			t.Fatalf("wrote %d bytes, over the %d limit", total, lim.maxBytes)
		}
	})
}
