package main

import (
	"slices"
	"testing"

	"github.com/wispio/wisp/invoker"
)

// TestStemCellsFlag: --stem-cells takes KIND:MB:COUNT or KIND:MB:MIN-MAX
// and prints back what it parsed.
func TestStemCellsFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    []invoker.StemCell
		wantErr bool
	}{
		{"nodejs:20:256:2", []invoker.StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}}, false},
		{"nodejs:20:256:1-6,python:3:512:0-4", []invoker.StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 1, Max: 6}, {Kind: "python:3", MemoryMB: 512, Count: 0, Max: 4}}, false},
		{"none", nil, false},
		{"nodejs:20:256:3-2", nil, true},
		{"nodejs:20:256:1-x", nil, true},
		{"nodejs:20:256:-2", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var cells []invoker.StemCell
			f := stemCellsFlag{&cells}
			err := f.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !slices.Equal(cells, tt.want) {
				t.Fatalf("Set(%q) = %+v, want %+v", tt.in, cells, tt.want)
			}
			if got := f.String(); got != tt.in {
				t.Fatalf("String() = %q, want %q", got, tt.in)
			}
		})
	}
}
