package proxy

import (
	"slices"
	"testing"
)

func TestParseStat(t *testing.T) {
	for _, tt := range []struct {
		line string
		want procInfo
		ok   bool
	}{
		{"12 (python3) S 1 12 12 0 -1", procInfo{ppid: 1, state: 'S'}, true},
		{"40 (a (b) c) Z 12 40 12 0", procInfo{ppid: 12, state: 'Z'}, true},
		{"7 (x)) R 3 7", procInfo{ppid: 3, state: 'R'}, true},
		{"garbage", procInfo{}, false},
		{"9 (x) S notanumber", procInfo{}, false},
	} {
		got, ok := parseStat([]byte(tt.line))
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseStat(%q) = %+v %v, want %+v %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

// TestLeftovers: every descendant of the proxy but the launcher is a
// leftover, the launcher's own children included; other processes are not.
func TestLeftovers(t *testing.T) {
	procs := map[int]procInfo{
		1:  {ppid: 0},  // the proxy
		10: {ppid: 1},  // the launcher
		11: {ppid: 10}, // its child
		12: {ppid: 11}, // a grandchild
		20: {ppid: 1},  // an orphan reparented to the proxy
		30: {ppid: 99}, // not the proxy's
		99: {ppid: 0},
		40: {ppid: 40}, // a loop in the table must not hang
	}
	got := leftovers(procs, 1, 10)
	slices.Sort(got)
	if want := []int{11, 12, 20}; !slices.Equal(got, want) {
		t.Fatalf("leftovers = %v, want %v", got, want)
	}
}

func TestParsePidsMax(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"max 0\n", 0, true},
		{"max 17\n", 17, true},
		{"other 3\nmax 5\n", 5, true},
		{"", 0, false},
	} {
		if got, ok := parsePidsMax([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("parsePidsMax(%q) = %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// BenchmarkScanProcs is the cost of one /proc scan, the work the cleanup
// does after an activation that left nothing behind (in a container /proc
// lists a handful of processes; here it lists the host's).
func BenchmarkScanProcs(b *testing.B) {
	for b.Loop() {
		scanProcs()
	}
}
