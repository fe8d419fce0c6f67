package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// TestLineFitsTheTerminal gives a pseudo-terminal a width and checks that a
// Reporter on it cuts its line to one column less.
func TestLineFitsTheTerminal(t *testing.T) {
	for _, cols := range []uint16{40, 120} {
		f := openPTY(t).(*os.File)
		if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: 24}); err != nil {
			t.Fatalf("set the width: %v", err)
		}
		r := New(f, true)
		var buf bytes.Buffer
		r.w = &buf // read back what would go to the terminal
		r.Start(1, "deploy")
		r.Step(strings.Repeat("x", 200))
		last := buf.String()[strings.LastIndex(buf.String(), "\r")+1:]
		if got := utf8.RuneCountInString(last); got != int(cols)-1 {
			t.Errorf("width %d: line of %d columns, want %d", cols, got, cols-1)
		}
	}
}
