//go:build !linux

package progress

import "os"

// isTerminal takes a character device for a terminal where no terminal
// ioctl is wired up.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// columns is the width of the terminal f, unknown here.
func columns(*os.File) int { return 0 }
