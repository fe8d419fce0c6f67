package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

func TestReporter(t *testing.T) {
	tests := []struct {
		name  string
		tty   bool
		total int
		steps []string
		want  string
	}{
		{
			name: "plain lines with counts", total: 3,
			steps: []string{"create action shop/price", "create trigger tick", "delete rule old"},
			want:  "[1/3] create action shop/price\n[2/3] create trigger tick\n[3/3] delete rule old\n",
		},
		{name: "plain, no steps", total: 0, want: ""},
		{
			name: "terminal redraws in place", tty: true, total: 2,
			steps: []string{"create action shop/price-with-a-long-name", "create rule r"},
			want: "\rdeploy [....................] 0/2" +
				"\rdeploy [##########..........] 1/2 create action shop/price-with-a-long-name" +
				"\rdeploy [####################] 2/2 create rule r" + strings.Repeat(" ", 28) +
				"\n",
		},
		{
			name: "terminal line cut to the width", tty: true, total: 1,
			steps: []string{strings.Repeat("x", 100)},
			want: "\rdeploy [....................] 0/1" +
				"\rdeploy [####################] 1/1 " + strings.Repeat("x", 44) + "…" + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := New(&buf, tt.tty)
			r.Start(tt.total, "deploy")
			for _, s := range tt.steps {
				r.Step(s)
			}
			r.Done()
			if got := buf.String(); got != tt.want {
				t.Errorf("output\n%q\nwant\n%q", got, tt.want)
			}
			if tt.tty {
				if n := strings.Count(buf.String(), "\r"); n != len(tt.steps)+1 {
					t.Errorf("%d redraws, want %d", n, len(tt.steps)+1)
				}
				if !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 {
					t.Errorf("terminal output %q does not end with its only newline", buf.String())
				}
			}
		})
	}
}

func TestNilReporterReportsNothing(t *testing.T) {
	var r *Reporter
	r.Start(2, "x")
	r.Step("a")
	r.Done()
}

func TestDoneTwiceWritesOneNewline(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, true)
	r.Start(1, "build")
	r.Done()
	r.Done()
	if got := strings.Count(buf.String(), "\n"); got != 1 {
		t.Errorf("%d newlines in %q, want 1", got, buf.String())
	}
}

func TestTerminal(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	tests := []struct {
		name string
		open func(t *testing.T) io.Writer
		want bool
	}{
		{"a buffer", func(*testing.T) io.Writer { return &bytes.Buffer{} }, false},
		{"/dev/null", func(*testing.T) io.Writer { return devNull }, false},
		{"a pseudo-terminal", openPTY, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Terminal(tt.open(t)); got != tt.want {
				t.Errorf("Terminal = %v, want %v", got, tt.want)
			}
		})
	}
}

// openPTY opens the master side of a new pseudo-terminal.
func openPTY(t *testing.T) io.Writer {
	f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
