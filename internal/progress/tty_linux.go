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
