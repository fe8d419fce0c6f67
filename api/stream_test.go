package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wispio/wisp/entity"
)

func TestActivationStreamRefuses(t *testing.T) {
	f := newFixture(t)
	hub := NewActivationHub()
	f.api.UseActivationStream(hub)
	// "them" holds every stream it may: its next one is refused.
	for range MaxStreamsPerNamespace {
		_, cancel, err := hub.Subscribe("them")
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
	}
	wrong := entity.Credentials{UUID: f.auth.UUID, Key: "wrong"}
	for _, tc := range []struct {
		name  string
		path  string
		creds *entity.Credentials
		want  int
	}{
		{"no key", "/api/v1/namespaces/_/activations/stream", nil, http.StatusUnauthorized},
		{"wrong key", "/api/v1/namespaces/_/activations/stream", &wrong, http.StatusUnauthorized},
		{"another namespace", "/api/v1/namespaces/them/activations/stream", &f.auth, http.StatusForbidden},
		{"too many streams", "/api/v1/namespaces/_/activations/stream", &f.other, http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, raw := f.do(t, "GET", tc.path, "", tc.creds)
			if code != tc.want || body["error"] == nil {
				t.Errorf("GET %s: %d %s, want %d with an error body", tc.path, code, raw, tc.want)
			}
		})
	}
}

// TestActivationStreamCarriesOnlyTheCallersNamespace publishes another
// namespace's record before the caller's: the first event the caller
// reads must be its own.
func TestActivationStreamCarriesOnlyTheCallersNamespace(t *testing.T) {
	f := newFixture(t)
	hub := NewActivationHub()
	f.api.UseActivationStream(hub)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.URL+"/api/v1/namespaces/me/activations/stream", nil)
	req.SetBasicAuth(f.auth.UUID, f.auth.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	// The opening comment is written once the stream is subscribed.
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), ": stream of me") || !lines.Scan() || lines.Text() != "" {
		t.Fatalf("line %q, want the opening comment and a blank line", lines.Text())
	}
	theirs := &entity.Activation{ActivationID: "1111", Namespace: "them", Name: "secret", Logs: []string{"their log"}}
	mine := &entity.Activation{ActivationID: "2222", Namespace: "me", Name: "hello", Logs: []string{"my log"},
		Response: entity.Response{Result: json.RawMessage(`{"x":1}`)}}
	hub.Publish([]*entity.Activation{theirs, mine})
	var event []string
	for lines.Scan() && lines.Text() != "" {
		if l := lines.Text(); !strings.HasPrefix(l, ":") {
			event = append(event, l)
		}
	}
	if len(event) != 3 || event[0] != "event: activation" || event[1] != "id: 2222" {
		t.Fatalf("first event %q, want the caller's activation 2222", event)
	}
	var got entity.Activation
	if err := json.Unmarshal([]byte(strings.TrimPrefix(event[2], "data: ")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "hello" || len(got.Logs) != 0 || got.Response.Result != nil {
		t.Errorf("event data %+v, want the record's summary (no logs, no result)", got)
	}
}

func TestActivationHubDropsASlowSubscriber(t *testing.T) {
	hub := NewActivationHub()
	slow, cancelSlow, _ := hub.Subscribe("ns")
	defer cancelSlow()
	other, cancelOther, _ := hub.Subscribe("other")
	defer cancelOther()
	for i := range streamBuffer + 1 {
		hub.Publish([]*entity.Activation{{ActivationID: itoa(int64(i)), Namespace: "ns"}})
	}
	n := 0
	for range slow {
		n++
	}
	if n != streamBuffer {
		t.Errorf("slow subscriber got %d records before being dropped, want %d", n, streamBuffer)
	}
	if got := hub.Subscribers("ns"); got != 0 {
		t.Errorf("%d subscribers of ns left, want 0", got)
	}
	if got := hub.Subscribers("other"); got != 1 {
		t.Errorf("%d subscribers of other, want 1 (untouched)", got)
	}
	select {
	case a := <-other:
		t.Errorf("namespace other got %+v", a)
	default:
	}
	cancelSlow() // after a drop, cancel is harmless
}

func TestActivationHubClose(t *testing.T) {
	hub := NewActivationHub()
	open, cancel, _ := hub.Subscribe("ns")
	defer cancel()
	hub.Close()
	if _, ok := <-open; ok {
		t.Error("a subscription outlived Close")
	}
	late, cancelLate, _ := hub.Subscribe("ns")
	defer cancelLate()
	if _, ok := <-late; ok {
		t.Error("a subscription made after Close is open")
	}
	hub.Publish([]*entity.Activation{{ActivationID: "1", Namespace: "ns"}}) // no subscriber, no panic
}

// A namespace holds at most MaxStreamsPerNamespace streams: one more is
// refused (429 over HTTP) until one closes; other namespaces are not
// affected.
func TestActivationHubBoundsStreams(t *testing.T) {
	hub := NewActivationHub()
	cancels := make([]func(), 0, MaxStreamsPerNamespace)
	for i := range MaxStreamsPerNamespace {
		_, cancel, err := hub.Subscribe("ns")
		if err != nil {
			t.Fatalf("stream %d: %v", i+1, err)
		}
		cancels = append(cancels, cancel)
	}
	if _, _, err := hub.Subscribe("ns"); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("stream %d: err %v, want ErrTooManyStreams", MaxStreamsPerNamespace+1, err)
	}
	if _, cancel, err := hub.Subscribe("other"); err != nil {
		t.Errorf("another namespace: %v", err)
	} else {
		cancel()
	}
	cancels[0]()
	if _, cancel, err := hub.Subscribe("ns"); err != nil {
		t.Errorf("after one closed: %v", err)
	} else {
		cancel()
	}
	for _, c := range cancels[1:] {
		c()
	}
}
