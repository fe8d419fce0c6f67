package entity

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestRuleDeliveryFields(t *testing.T) {
	fqn := FQN{Namespace: "ns", Name: "R"}
	withRetry := &Rule{Namespace: "ns", Name: "R", Version: "0.0.1", Trigger: EntityRef{Path: "ns", Name: "T"}, Action: EntityRef{Path: "ns", Name: "A"},
		Retry: &RetryPolicy{Attempts: 2, Backoff: BackoffPolicy{Initial: 10, Max: 10}}, DeadLetter: "/ns/DL"}
	tests := []struct {
		name      string
		req       string
		existing  *Rule
		wantField string
		retry     *RetryPolicy
		dl        string
		sink      string
	}{
		{name: "numbers", req: `{"trigger":"T","action":"A","retry":{"attempts":3,"backoff":{"initial":100,"max":5000}},"deadLetter":"DL"}`,
			retry: &RetryPolicy{Attempts: 3, Backoff: BackoffPolicy{Initial: 100, Max: 5000}}, dl: "/ns/DL"},
		{name: "duration strings and defaults", req: `{"trigger":"T","action":"A","retry":{"attempts":2,"backoff":{"initial":"250ms"}},"deadLetter":"/_/DL"}`,
			retry: &RetryPolicy{Attempts: 2, Backoff: BackoffPolicy{Initial: 250, Max: 8000}}, dl: "/ns/DL"},
		{name: "no backoff", req: `{"trigger":"T","action":"A","retry":{"attempts":2,"onApplicationError":true}}`,
			retry: &RetryPolicy{Attempts: 2, Backoff: BackoffPolicy{Initial: 1000, Max: 32000}, OnApplicationError: true}},
		{name: "absent keeps", req: `{"action":"B"}`, existing: withRetry, retry: withRetry.Retry, dl: "/ns/DL"},
		{name: "null clears", req: `{"retry":null,"deadLetter":null}`, existing: withRetry},
		{name: "empty dead letter clears", req: `{"deadLetter":""}`, existing: withRetry, retry: withRetry.Retry},
		{name: "attempts missing", req: `{"trigger":"T","action":"A","retry":{"backoff":{"initial":1}}}`, wantField: "retry.attempts"},
		{name: "attempts zero", req: `{"trigger":"T","action":"A","retry":{"attempts":0}}`, wantField: "retry.attempts"},
		{name: "attempts too many", req: `{"trigger":"T","action":"A","retry":{"attempts":21}}`, wantField: "retry.attempts"},
		{name: "attempts not a number", req: `{"trigger":"T","action":"A","retry":{"attempts":"3"}}`, wantField: "retry"},
		{name: "unknown field", req: `{"trigger":"T","action":"A","retry":{"attempts":3,"tries":1}}`, wantField: "retry"},
		{name: "initial too small", req: `{"trigger":"T","action":"A","retry":{"attempts":3,"backoff":{"initial":0}}}`, wantField: "retry.backoff.initial"},
		{name: "initial not a duration", req: `{"trigger":"T","action":"A","retry":{"attempts":3,"backoff":{"initial":"soon"}}}`, wantField: "retry.backoff.initial"},
		{name: "max too large", req: `{"trigger":"T","action":"A","retry":{"attempts":3,"backoff":{"max":"1h"}}}`, wantField: "retry.backoff.max"},
		{name: "max below initial", req: `{"trigger":"T","action":"A","retry":{"attempts":3,"backoff":{"initial":"2s","max":"1s"}}}`, wantField: "retry.backoff.max"},
		{name: "dead letter elsewhere", req: `{"trigger":"T","action":"A","deadLetter":"/other/DL"}`, wantField: "deadLetter"},
		{name: "dead letter in a package", req: `{"trigger":"T","action":"A","deadLetter":"p/DL"}`, wantField: "deadLetter"},
		{name: "dead letter is the trigger", req: `{"trigger":"T","action":"A","deadLetter":"T"}`, wantField: "deadLetter"},
		{name: "sink URL", req: `{"trigger":"T","action":"A","sink":"https://hooks.example.com/in?x=1"}`, sink: "https://hooks.example.com/in?x=1"},
		{name: "sink trigger", req: `{"trigger":"T","action":"A","sink":"Next"}`, sink: "/ns/Next"},
		{name: "sink cleared", req: `{"sink":null}`, existing: &Rule{Namespace: "ns", Name: "R", Trigger: EntityRef{Path: "ns", Name: "T"}, Sink: "/ns/Next"}},
		{name: "sink with credentials", req: `{"trigger":"T","action":"A","sink":"https://u:p@example.com/"}`, wantField: "sink"},
		{name: "sink without host", req: `{"trigger":"T","action":"A","sink":"http:///x"}`, wantField: "sink"},
		{name: "sink elsewhere", req: `{"trigger":"T","action":"A","sink":"/other/T2"}`, wantField: "sink"},
		{name: "sink is the trigger", req: `{"trigger":"T","action":"A","sink":"/_/T"}`, wantField: "sink"},
		{name: "sink not a string", req: `{"trigger":"T","action":"A","sink":3}`, wantField: "sink"},
		{name: "dead letter not a string", req: `{"trigger":"T","action":"A","deadLetter":{"name":"DL"}}`, wantField: "deadLetter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req RulePut
			if err := json.Unmarshal([]byte(tt.req), &req); err != nil {
				t.Fatal(err)
			}
			r, err := BuildRule(fqn, &req, tt.existing, DefaultSystemLimits(), 1)
			if tt.wantField != "" {
				if fe, ok := AsFieldError(err); !ok || fe.Field != tt.wantField {
					t.Fatalf("err = %v, want a FieldError on %q", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Retry, tt.retry) || r.DeadLetter != tt.dl || r.Sink != tt.sink {
				t.Fatalf("retry %+v deadLetter %q sink %q, want %+v %q %q", r.Retry, r.DeadLetter, r.Sink, tt.retry, tt.dl, tt.sink)
			}
			if (r.Delivery() == nil) != (tt.retry == nil && tt.dl == "" && tt.sink == "") {
				t.Fatalf("Delivery() = %+v", r.Delivery())
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	p := &RetryPolicy{Attempts: 6, Backoff: BackoffPolicy{Initial: 100, Max: 500}}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 500 * time.Millisecond, 10: 500 * time.Millisecond} {
		if got := p.Delay(attempt); got != want {
			t.Errorf("Delay(%d) = %s, want %s", attempt, got, want)
		}
	}
	asked := &RetryPolicy{Attempts: 2, OnApplicationError: true}
	var none *RetryPolicy
	for _, tt := range []struct {
		p      *RetryPolicy
		status int
		want   bool
	}{
		{p, StatusSuccess, false}, {p, StatusApplicationError, false}, {p, StatusDeveloperError, true}, {p, StatusWhiskError, true},
		{asked, StatusApplicationError, true}, {asked, StatusSuccess, false},
		{none, StatusDeveloperError, true}, {none, StatusApplicationError, false},
	} {
		if got := tt.p.Retries(tt.status); got != tt.want {
			t.Errorf("%+v.Retries(%d) = %v, want %v", tt.p, tt.status, got, tt.want)
		}
	}
}
