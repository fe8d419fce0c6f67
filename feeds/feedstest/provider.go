package feedstest

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/feeds"
)

// Provider is what a connector's test gives Run.
type Provider struct {
	// New returns a fresh provider for one case, its services started.
	New func(t *testing.T) feeds.Provider
	// Feed is the feed action the cases register, one of Feeds().
	Feed string
	// Params returns a valid parameter set for Feed (creating what it
	// names at the source: a database, a topic).
	Params func(t *testing.T) map[string]json.RawMessage
	// Secrets are values in Params that no Validate error may repeat (a
	// password, a token).
	Secrets []string
	// Ready, when set, waits until a started feed is ready to receive
	// events (subscribed, connected); most read the Sink's reports.
	Ready func(t *testing.T, sink *Sink)
	// Emit makes the source produce one event for the running feed reg of
	// p (publish an MQTT message, write a CouchDB document, tick an alarm
	// clock, post a signed webhook). Nil skips the delivery cases.
	Emit func(t *testing.T, p feeds.Provider, reg feeds.Registration)
	// Redeliver, when set, makes the event the last Emit sent, refused,
	// come again: a webhook sender retrying as a source that saw no
	// acknowledgement does (it checks that the refusal was not
	// acknowledged), an alarm clock moved past the retry delay. Nil means
	// that the provider or its source retries on its own (MQTT QoS 1, a
	// CouchDB changes feed).
	Redeliver func(t *testing.T, p feeds.Provider, reg feeds.Registration)
}

// Run runs every case against the providers pr.New makes.
func Run(t *testing.T, pr Provider) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Provider)
	}{
		{"NamesAreStable", namesAreStable},
		{"ValidateAcceptsParams", validateAccepts},
		{"ValidateRefusesEmpty", validateRefusesEmpty},
		{"ValidateRefusesGarbage", validateRefusesGarbage},
		{"ValidateRefusesEachMissingField", validateRefusesEachMissing},
		{"StartAndStop", startAndStop},
		{"DeliversAnEvent", deliversAnEvent},
		{"RefusedEventIsNotLost", refusedEventIsNotLost},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, pr) })
	}
}

func namesAreStable(t *testing.T, pr Provider) {
	p := pr.New(t)
	name, list := p.Name(), p.Feeds()
	if name == "" || len(list) == 0 {
		t.Fatalf("Name %q, Feeds %q: want both non-empty", name, list)
	}
	for _, f := range list {
		if f == "" {
			t.Errorf("Feeds %q holds an empty name", list)
		}
	}
	if !slices.Contains(list, pr.Feed) {
		t.Errorf("Feeds %q does not hold the suite's feed %q", list, pr.Feed)
	}
	if again, listAgain := p.Name(), p.Feeds(); again != name || !slices.Equal(listAgain, list) {
		t.Errorf("Name, Feeds = %q %q, then %q %q", name, list, again, listAgain)
	}
	if other := pr.New(t); other.Name() != name || !slices.Equal(other.Feeds(), list) {
		t.Errorf("another provider is %q %q, want %q %q", other.Name(), other.Feeds(), name, list)
	}
}

func validateAccepts(t *testing.T, pr Provider) {
	p := pr.New(t)
	if err := p.Validate(t.Context(), pr.Feed, pr.Params(t)); err != nil {
		t.Fatalf("Validate of the valid params: %v", err)
	}
}

func validateRefusesEmpty(t *testing.T, pr Provider) {
	p := pr.New(t)
	valid := pr.Params(t)
	for _, params := range []map[string]json.RawMessage{nil, {}, {"feedstestNonsense": json.RawMessage(`"x"`)}} {
		checkRefusal(t, pr, p, params, slices.Collect(maps.Keys(valid)))
	}
}

// garbage is a value no parameter of any connector accepts.
var garbage = json.RawMessage(`{"feedstest":[[true],null]}`)

func validateRefusesGarbage(t *testing.T, pr Provider) {
	p := pr.New(t)
	params := pr.Params(t)
	for k := range params {
		params[k] = garbage
	}
	checkRefusal(t, pr, p, params, slices.Collect(maps.Keys(params)))
}

// validateRefusesEachMissingField removes each parameter in turn: where
// Validate refuses (the parameter is required), the error names a field
// and repeats none of the secrets still present.
func validateRefusesEachMissing(t *testing.T, pr Provider) {
	p := pr.New(t)
	valid := pr.Params(t)
	refused := 0
	for k := range valid {
		params := maps.Clone(valid)
		delete(params, k)
		err := p.Validate(t.Context(), pr.Feed, params)
		if err == nil {
			continue
		}
		refused++
		checkError(t, pr, "without "+k, err, slices.Collect(maps.Keys(valid)))
	}
	if refused == 0 && len(valid) > 0 {
		t.Logf("every parameter of %v is optional", slices.Collect(maps.Keys(valid)))
	}
}

// checkRefusal checks that Validate refuses params with an error naming
// one of fields.
func checkRefusal(t *testing.T, pr Provider, p feeds.Provider, params map[string]json.RawMessage, fields []string) {
	t.Helper()
	err := p.Validate(t.Context(), pr.Feed, params)
	if err == nil {
		t.Fatalf("Validate(%s) accepted", show(params))
	}
	checkError(t, pr, show(params), err, fields)
}

func checkError(t *testing.T, pr Provider, what string, err error, fields []string) {
	t.Helper()
	msg := err.Error()
	if !slices.ContainsFunc(fields, func(f string) bool { return strings.Contains(msg, f) }) {
		t.Errorf("Validate(%s) = %q names none of %q", what, msg, fields)
	}
	for _, s := range pr.Secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("Validate(%s) = %q repeats a secret", what, msg)
		}
	}
}

func show(params map[string]json.RawMessage) string {
	b, _ := json.Marshal(params)
	return string(b)
}

// started is a feed the suite started, with its registration and sink.
type started struct {
	p    feeds.Provider
	reg  feeds.Registration
	sink *Sink
	feed feeds.Feed
}

// start registers (for a feeds.Registerer) and starts pr.Feed, failing t
// when Start does not return within Wait; the feed is stopped and
// unregistered at the end of the test.
func start(t *testing.T, pr Provider) *started {
	t.Helper()
	p := pr.New(t)
	reg := feeds.Registration{
		Trigger:  "/feedstest/" + strings.ReplaceAll(t.Name(), "/", "_"),
		Provider: p.Name(), Feed: pr.Feed, Params: pr.Params(t), Status: feeds.StatusActive,
	}
	if err := p.Validate(t.Context(), pr.Feed, reg.Params); err != nil {
		t.Fatalf("Validate of the valid params: %v", err)
	}
	if r, ok := p.(feeds.Registerer); ok {
		state, err := r.Register(t.Context(), reg)
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		reg.State = state
		t.Cleanup(func() {
			if err := r.Unregister(context.Background(), reg); err != nil {
				t.Errorf("Unregister: %v", err)
			}
		})
	}
	s := &started{p: p, reg: reg, sink: NewSink()}
	within(t, "Start", func() {
		f, err := p.Start(t.Context(), reg, s.sink)
		if err != nil {
			t.Errorf("Start: %v", err)
			return
		}
		s.feed = f
	})
	if s.feed == nil {
		t.FailNow()
	}
	t.Cleanup(func() { _ = s.feed.Stop(context.Background()) })
	if pr.Ready != nil {
		pr.Ready(t, s.sink)
	}
	return s
}

// within runs f, failing t when it does not return within Wait.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-timer(t):
		t.Fatalf("%s did not return within %v", what, Wait)
	}
}

// startAndStop starts the feed and stops it twice: Stop returns within
// Wait, and a second Stop is not an error.
func startAndStop(t *testing.T, pr Provider) {
	s := start(t, pr)
	for _, which := range []string{"Stop", "a second Stop"} {
		within(t, which, func() {
			if err := s.feed.Stop(t.Context()); err != nil {
				t.Errorf("%s: %v", which, err)
			}
		})
	}
}

func deliversAnEvent(t *testing.T, pr Provider) {
	if pr.Emit == nil {
		t.Skip("the connector cannot make its source emit in a test")
	}
	s := start(t, pr)
	pr.Emit(t, s.p, s.reg)
	if ev := s.sink.Next(t); !json.Valid(ev.Payload) || ev.Payload[0] != '{' {
		t.Errorf("payload %s: want a JSON object", ev.Payload)
	}
}

// refusedEventIsNotLost refuses the first delivery: the same event comes
// again, redelivered by the source or retried by the provider, and is
// accepted. The same event is the same source position (Cursor), or the
// same Payload for a provider that keeps no cursor: a redelivery may mark
// its payload as one (MQTT's duplicate flag).
func refusedEventIsNotLost(t *testing.T, pr Provider) {
	if pr.Emit == nil {
		t.Skip("the connector cannot make its source emit in a test")
	}
	s := start(t, pr)
	s.sink.FailWhen(func(ev feeds.Event) bool { return ev.Payload != nil })
	pr.Emit(t, s.p, s.reg)
	s.sink.await(t, "refused delivery", func() bool { return len(s.sink.refused) > 0 })
	s.sink.failWhen = nil // under s.sink.mu, which await holds
	refused, accepted := s.sink.refused[0], len(s.sink.events)
	s.sink.mu.Unlock()
	if accepted != 0 {
		t.Fatalf("accepted %d events while refusing", accepted)
	}
	if pr.Redeliver != nil {
		pr.Redeliver(t, s.p, s.reg)
	}
	ev := s.sink.Next(t)
	same := ev.Cursor == refused.Cursor
	if refused.Cursor == "" {
		same = string(ev.Payload) == string(refused.Payload)
	}
	if !same {
		t.Errorf("after refusing %s (cursor %q) the feed delivered %s (cursor %q): the refused event is lost",
			refused.Payload, refused.Cursor, ev.Payload, ev.Cursor)
	}
}
