package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// barWidth is the number of cells of the bar drawn on a terminal.
const barWidth = 20

// lineWidth bounds a redrawn line when the terminal's width is unknown: a
// longer line would wrap, and "\r" goes back only to the start of its last
// row.
const lineWidth = 79

// Reporter shows how far a piece of work with a known number of steps got.
// A nil *Reporter reports nothing, so code can take one optionally. It is
// not safe for concurrent use: one goroutine owns it.
type Reporter struct {
	w     io.Writer
	tty   bool
	label string
	total int
	n     int // steps begun
	drawn int // width of the line on the terminal; 0 when none is open
	width int // the most columns a redrawn line may take
}

// New returns a Reporter writing to w; isTTY selects the redrawn line
// (see Terminal) over plain lines. A redrawn line is cut to one column less
// than the terminal's width, or to 79 columns when w has no known width.
func New(w io.Writer, isTTY bool) *Reporter {
	width := lineWidth
	if f, ok := w.(*os.File); ok && isTTY {
		if cols := columns(f); cols > 1 {
			width = cols - 1
		}
	}
	return &Reporter{w: w, tty: isTTY, width: width}
}

// Start begins work of total steps described by label ("deploy project
// shop"). A terminal shows the empty bar at once.
func (r *Reporter) Start(total int, label string) {
	if r == nil {
		return
	}
	r.label, r.total, r.n = label, total, 0
	if r.tty {
		r.draw("")
	}
}

// Step says that the next step, name, begins: "[3/12] name" on a line of
// its own, or the redrawn bar on a terminal.
func (r *Reporter) Step(name string) {
	if r == nil {
		return
	}
	r.n++
	if r.tty {
		r.draw(name)
		return
	}
	fmt.Fprintf(r.w, "[%d/%d] %s\n", r.n, r.total, name)
}

// Done ends the work: on a terminal the bar is closed with a newline, so
// what follows starts on a line of its own. Call it on failure too.
func (r *Reporter) Done() {
	if r == nil || !r.tty || r.drawn == 0 {
		return
	}
	fmt.Fprint(r.w, "\n")
	r.drawn = 0
}

// draw rewrites the terminal line: label, bar, count and the current step,
// padded with spaces over what the previous line showed.
func (r *Reporter) draw(name string) {
	filled := barWidth
	if r.total > 0 {
		filled = min(r.n, r.total) * barWidth / r.total
	}
	line := fmt.Sprintf("%s [%s%s] %d/%d", r.label, strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), r.n, r.total)
	if name != "" {
		line += " " + name
	}
	line = truncate(line, r.width)
	width := utf8.RuneCountInString(line)
	pad := max(r.drawn-width, 0)
	fmt.Fprintf(r.w, "\r%s%s", line, strings.Repeat(" ", pad))
	r.drawn = max(width, 1)
}

// truncate cuts s to at most n runes, ending in "…" when it cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// Terminal reports whether w is a terminal, the case for a redrawn line.
// Only an *os.File can be one.
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}
