package entity

import (
	"encoding/json"
	"strings"
	"testing"
)

// nested returns {"v": [[...1...]]} whose depth is depth (depth >= 1).
func nested(depth int) string {
	return `{"v":` + strings.Repeat("[", depth-1) + "1" + strings.Repeat("]", depth-1) + "}"
}

func TestJSONDepth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`1`, 0},
		{`"[{["`, 0},
		{`{}`, 1},
		{`[1,[2],{"a":{}}]`, 3},
		{`{"a":"\"[[[","b":[]}`, 2},
		{`{"a":"\\","b":[[]]}`, 3},
		{nested(600), 600},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 20)], func(t *testing.T) {
			if got := JSONDepth([]byte(tt.in), 10_000); got != tt.want {
				t.Fatalf("JSONDepth = %d, want %d", got, tt.want)
			}
		})
	}
	if got := JSONDepth([]byte(nested(10_000)), 5); got != 6 {
		t.Fatalf("JSONDepth with max 5 = %d, want 6 (stops counting)", got)
	}
}

// TestDepthLimitAtTheDoors checks both doors in entity: parameters from a
// request body and an action's result. A value at the limit passes and its
// activation record still decodes; one level more is refused.
func TestDepthLimitAtTheDoors(t *testing.T) {
	atLimit, over := nested(MaxJSONDepth), nested(MaxJSONDepth+1)
	if _, err := ParamsFromObject("body", []byte(atLimit)); err != nil {
		t.Fatalf("ParamsFromObject at the limit: %v", err)
	}
	_, err := ParamsFromObject("body", []byte(over))
	if fe, ok := AsFieldError(err); !ok || fe.Field != "body" || !strings.Contains(fe.Reason, "deeper than the limit of 512 levels") {
		t.Fatalf("ParamsFromObject over the limit: err = %v, want a field error on body naming the depth limit", err)
	}
	ok := ResponseFromRun(200, []byte(atLimit), 1<<20)
	if ok.StatusCode != StatusSuccess {
		t.Fatalf("result at the limit: %+v", ok)
	}
	b, err := json.Marshal(&Activation{ActivationID: "a", Response: ok})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, new(Activation)); err != nil {
		t.Fatalf("a record with a result at the limit does not decode: %v", err)
	}
	r := ResponseFromRun(200, []byte(over), 1<<20)
	if r.StatusCode != StatusDeveloperError || !strings.Contains(string(r.Result), "deeper than the limit of 512 levels") {
		t.Fatalf("result over the limit: %+v %s, want a developer error naming the limit", r, r.Result)
	}
	// What issue 22 reproduced: 9,998 levels used to be a success whose
	// record could not be decoded again.
	if r := ResponseFromRun(200, []byte(nested(9_998)), 1<<30); r.StatusCode != StatusDeveloperError {
		t.Fatalf("result of 9,998 levels: %+v", r)
	}
}
