package progress

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal asks the kernel for f's terminal settings, which only a
// terminal has (/dev/null, a character device too, has none).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// columns is the width of the terminal f, 0 when unknown.
func columns(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
