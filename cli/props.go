package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// propsPath is the properties file: $WSK_CONFIG_FILE, else ~/.wskprops.
func propsPath() (string, error) {
	if p := os.Getenv("WSK_CONFIG_FILE"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate .wskprops: %w", err)
	}
	return filepath.Join(home, ".wskprops"), nil
}

// props is a .wskprops file: KEY=VALUE lines. It keeps every line it does not
// change (other keys, comments, blank lines) so writing it back loses nothing.
type props struct {
	lines []string
}

// readProps reads a properties file; a missing file reads as empty.
func readProps(path string) (*props, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &props{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read properties: %w", err)
	}
	text := strings.TrimRight(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if text == "" {
		return &props{}, nil
	}
	return &props{lines: strings.Split(text, "\n")}, nil
}

// parseLine splits a KEY=VALUE line; comments and other lines have no key.
func parseLine(line string) (key, value string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	key, value, ok = strings.Cut(line, "=")
	return strings.TrimSpace(key), strings.TrimSpace(value), ok
}

// get returns the value of key; the last line for a key wins, as in wsk.
func (p *props) get(key string) string {
	var value string
	for _, line := range p.lines {
		if k, v, ok := parseLine(line); ok && k == key {
			value = v
		}
	}
	return value
}

// set replaces every line for key with one KEY=value line, or appends it.
func (p *props) set(key, value string) {
	replaced := false
	kept := p.lines[:0:0]
	for _, line := range p.lines {
		if k, _, ok := parseLine(line); ok && k == key {
			if replaced {
				continue
			}
			line, replaced = key+"="+value, true
		}
		kept = append(kept, line)
	}
	if !replaced {
		kept = append(kept, key+"="+value)
	}
	p.lines = kept
}

// unset removes every line for key.
func (p *props) unset(key string) {
	kept := p.lines[:0:0]
	for _, line := range p.lines {
		if k, _, ok := parseLine(line); ok && k == key {
			continue
		}
		kept = append(kept, line)
	}
	p.lines = kept
}

// write stores the file readable by its owner only: it holds the auth key.
func (p *props) write(path string) error {
	text := strings.Join(p.lines, "\n")
	if text != "" {
		text += "\n"
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return fmt.Errorf("write properties: %w", err)
	}
	return nil
}
