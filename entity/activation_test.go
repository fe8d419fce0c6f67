package entity

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestResponseFromRun(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   int
		wantResult string
	}{
		{"success", 200, `{"a":1}`, StatusSuccess, `{"a":1}`},
		{"application error", 200, `{"error":"boom"}`, StatusApplicationError, `{"error":"boom"}`},
		{"application error object", 200, `{"error":{"m":1},"x":2}`, StatusApplicationError, `{"error":{"m":1}}`},
		{"runtime error with message", 502, `{"error":"thrown"}`, StatusDeveloperError, `{"error":"thrown"}`},
		{"runtime error without message", 500, `{"x":1}`, StatusDeveloperError, ""},
		{"spaced success compacted", 200, "{\"greeting\": \"hello python:3\",\n \"n\": [1, 2]}", StatusSuccess, `{"greeting":"hello python:3","n":[1,2]}`},
		{"spaced error compacted", 200, `{"error": {"m": "a b"}}`, StatusApplicationError, `{"error":{"m":"a b"}}`},
		{"not an object", 200, `[1,2]`, StatusDeveloperError, ""},
		{"not JSON", 200, `hello`, StatusDeveloperError, ""},
		{"empty", 200, ``, StatusDeveloperError, ""},
		{"too large", 200, `{"a":"` + strings.Repeat("x", 100) + `"}`, StatusDeveloperError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ResponseFromRun(tt.status, []byte(tt.body), 64)
			if r.StatusCode != tt.wantCode || r.Success != (tt.wantCode == StatusSuccess) || r.Status != statusNames[tt.wantCode] {
				t.Fatalf("response = %+v, want code %d", r, tt.wantCode)
			}
			if tt.wantResult != "" && string(r.Result) != tt.wantResult {
				t.Fatalf("result = %s, want %s", r.Result, tt.wantResult)
			}
			var obj map[string]any
			if err := json.Unmarshal(r.Result, &obj); err != nil {
				t.Fatalf("result %s is not a JSON object: %v", r.Result, err)
			}
			if tt.wantCode != StatusSuccess && obj["error"] == nil {
				t.Fatalf("failed response %s has no error field", r.Result)
			}
		})
	}
}

func TestActivationIDs(t *testing.T) {
	id := NewActivationID()
	if !ValidActivationID(id) || id == NewActivationID() {
		t.Fatalf("bad id %q", id)
	}
	prev := id
	for range 100 {
		next := NewActivationID()
		if next[:12] < prev[:12] {
			t.Fatalf("id %s sorts before the earlier %s", next, prev)
		}
		prev = next
	}
	for _, bad := range []string{"", "xyz", strings.Repeat("g", 32), id + "0"} {
		if ValidActivationID(bad) {
			t.Errorf("ValidActivationID(%q) = true", bad)
		}
	}
}

func TestSummaryDropsResultAndLogs(t *testing.T) {
	a := &Activation{Response: NewResponse(StatusSuccess, json.RawMessage(`{"secret":1}`)), Logs: []string{"line"}}
	s := a.Summary()
	if s.Response.Result != nil || len(s.Logs) != 0 || !s.Response.Success {
		t.Fatalf("summary = %+v", s)
	}
	if len(a.Logs) != 1 {
		t.Fatal("Summary changed the activation")
	}
}

func TestCredentials(t *testing.T) {
	c := NewCredentials()
	parsed, err := ParseCredentials(c.String())
	if err != nil || parsed != c {
		t.Fatalf("round trip: %+v %v", parsed, err)
	}
	s := Subject{KeyHash: HashKey(c.Key)}
	if !s.Matches(c.Key) || s.Matches(c.Key+"x") {
		t.Fatal("Matches wrong")
	}
	for _, bad := range []string{"", "nokey", ":k", "u:"} {
		if _, err := ParseCredentials(bad); err == nil {
			t.Errorf("ParseCredentials(%q) accepted", bad)
		}
	}
}
