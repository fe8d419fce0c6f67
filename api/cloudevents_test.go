package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// filteredTrigger makes trigger T in "me" with rule "orders" (only events
// of type com.example.order with total > 100) and rule "any" (no filter),
// both starting action A.
func filteredTrigger(t *testing.T, f *fixture) {
	t.Helper()
	const ns = "/api/v1/namespaces/_/"
	for _, s := range []struct{ method, path, body string }{
		{"PUT", ns + "actions/A", nodeAction},
		{"PUT", ns + "triggers/T", `{}`},
		{"PUT", ns + "rules/orders", `{"trigger":"/_/T","action":"/_/A","filter":"event.type == 'com.example.order' && params.total > 100"}`},
	} {
		if code, _, raw := f.do(t, s.method, s.path, s.body, &f.auth); code != 200 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, code, raw)
		}
	}
}

// ruleLogs reads a trigger activation and returns its log lines by rule.
func ruleLogs(t *testing.T, f *fixture, id string) map[string]string {
	t.Helper()
	act, _, err := getActivation(t, f, id)
	if err != nil {
		t.Fatalf("trigger activation %s: %v", id, err)
	}
	out := map[string]string{}
	for _, l := range act.Logs {
		var r routing.RuleResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(r.Rule, "me/")] = l
	}
	return out
}

func getActivation(t *testing.T, f *fixture, id string) (*entity.Activation, string, error) {
	t.Helper()
	a, err := f.store.GetActivation(t.Context(), "me", id)
	if err != nil {
		return &entity.Activation{}, "", err
	}
	return a, "", nil
}

// send posts ev with the official SDK's HTTP client, in binary or
// structured mode, and returns the answer's status.
func send(t *testing.T, f *fixture, structured bool, ev cloudevents.Event) int {
	t.Helper()
	opts := []cehttp.Option{
		cehttp.WithTarget(f.srv.URL + "/api/v1/namespaces/_/triggers/T"),
		cehttp.WithHeader("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(f.auth.UUID+":"+f.auth.Key))),
	}
	p, err := cloudevents.NewHTTP(opts...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cloudevents.NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if structured {
		ctx = cloudevents.WithEncodingStructured(ctx)
	} else {
		ctx = cloudevents.WithEncodingBinary(ctx)
	}
	res := c.Send(ctx, ev)
	var hr *cehttp.Result
	if !cloudevents.ResultAs(res, &hr) {
		t.Fatalf("send: %v", res)
	}
	return hr.StatusCode
}

func newEvent(t *testing.T, id, typ string, data any) cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("urn:shop")
	ev.SetType(typ)
	ev.SetSubject("orders/" + id)
	ev.SetTime(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	ev.SetExtension("region", "eu")
	if data != nil {
		if err := ev.SetData(cloudevents.ApplicationJSON, data); err != nil {
			t.Fatal(err)
		}
	}
	return ev
}

// TestCloudEventsFromTheSDK: events sent by the CloudEvents SDK's client in
// binary and structured mode fire the trigger with their data as params
// and their attributes for the filters; one sent again (same source and
// id) has the same trigger activation.
func TestCloudEventsFromTheSDK(t *testing.T) {
	f := newFixture(t)
	filteredTrigger(t, f)
	T := entity.FQN{Namespace: "me", Name: "T"}
	for _, mode := range []struct {
		name       string
		structured bool
	}{{"binary", false}, {"structured", true}} {
		t.Run(mode.name, func(t *testing.T) {
			for _, tc := range []struct {
				name, typ string
				total     int
				matches   bool
			}{
				{"matching order", "com.example.order", 250, true},
				{"small order", "com.example.order", 5, false},
				{"refund", "com.example.refund", 250, false},
			} {
				id := mode.name + "-" + tc.name
				ev := newEvent(t, id, tc.typ, map[string]any{"total": tc.total, "sku": "x1"})
				if code := send(t, f, mode.structured, ev); code != http.StatusAccepted {
					t.Fatalf("%s: status %d", tc.name, code)
				}
				actID := routing.EventActivationID(T, "", &entity.EventAttributes{Source: "urn:shop", ID: id})
				line := ruleLogs(t, f, actID)["orders"]
				if filtered := strings.Contains(line, `"filtered":true`); filtered == tc.matches {
					t.Fatalf("%s: rule log %s; want matched %v", tc.name, line, tc.matches)
				}
				act, _, _ := getActivation(t, f, actID)
				if got := string(act.Response.Result); !strings.Contains(got, `"total":`) || !strings.Contains(got, `"sku":"x1"`) {
					t.Fatalf("%s: trigger activation result %s, want the event's data", tc.name, got)
				}
				// The same event again: the same trigger activation.
				if code := send(t, f, mode.structured, ev); code != http.StatusAccepted {
					t.Fatalf("%s again: status %d", tc.name, code)
				}
			}
		})
	}
	acts, err := f.store.ListActivations(t.Context(), "me", store.ActivationFilter{Name: "T"})
	if n := len(acts); err != nil || n != 6 {
		t.Fatalf("%d trigger activations (%v), want 6: each event once", n, err)
	}
}

// TestCloudEventsBatch: a batch made by the SDK fires once per event and
// answers their activation ids in order.
func TestCloudEventsBatch(t *testing.T) {
	f := newFixture(t)
	filteredTrigger(t, f)
	evs := []cloudevents.Event{
		newEvent(t, "b1", "com.example.order", map[string]any{"total": 500}),
		newEvent(t, "b2", "com.example.order", map[string]any{"total": 1}),
		newEvent(t, "b3", "com.example.order", []int{1, 2}),
	}
	req, err := cehttp.NewHTTPRequestFromEvents(t.Context(), f.srv.URL+"/api/v1/namespaces/_/triggers/T", evs)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(f.auth.UUID, f.auth.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ ActivationIDs []string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusAccepted || len(body.ActivationIDs) != 3 {
		t.Fatalf("status %d, body %+v, %v", resp.StatusCode, body, err)
	}
	wantFiltered := []bool{false, true, true}
	for i, id := range body.ActivationIDs {
		line := ruleLogs(t, f, id)["orders"]
		if strings.Contains(line, `"filtered":true`) != wantFiltered[i] {
			t.Fatalf("event %d: %s", i, line)
		}
	}
	// b3's data is an array: it arrives as the parameter "data", and the
	// filter's params.total is missing (no match, the reason logged).
	if line := ruleLogs(t, f, body.ActivationIDs[2])["orders"]; !strings.Contains(line, "no such key: total") {
		t.Fatalf("b3: %s", line)
	}
	act, _, _ := getActivation(t, f, body.ActivationIDs[2])
	if got := string(act.Response.Result); got != `{"data":[1,2]}` {
		t.Fatalf("b3 result %s", got)
	}
}

// TestCloudEventRequests: hand-made CloudEvent requests, the refusals, and
// a plain JSON fire unchanged.
func TestCloudEventRequests(t *testing.T) {
	f := newFixture(t)
	filteredTrigger(t, f)
	url := f.srv.URL + "/api/v1/namespaces/_/triggers/T"
	post := func(t *testing.T, headers map[string]string, body string) (int, string) {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", url, strings.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		req.SetBasicAuth(f.auth.UUID, f.auth.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	binary := func(id, ct string) map[string]string {
		return map[string]string{"Ce-Specversion": "1.0", "Ce-Id": id, "Ce-Source": "curl", "Ce-Type": "t", "Content-Type": ct}
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		want    string // in the answer
		result  string // the trigger activation's result, when set
	}{
		{"plain JSON fire", map[string]string{"Content-Type": "application/json"}, `{"total": 3}`, 202, `"activationId"`, `{"total":3}`},
		{"binary text data", binary("t1", "text/plain"), "hello", 202, `"activationId"`, `{"data":"hello"}`},
		{"binary bytes", binary("t2", "application/octet-stream"), "\xff\xfe", 202, `"activationId"`, `{"data_base64":"//4="}`},
		{"binary no data", binary("t3", ""), "", 202, `"activationId"`, `{}`},
		{"structured with data_base64", map[string]string{"Content-Type": "application/cloudevents+json"},
			`{"specversion":"1.0","id":"s1","source":"x","type":"t","data_base64":"eyJ0b3RhbCI6IDd9","datacontenttype":"application/json"}`, 202, `"activationId"`, `{"total":7}`},
		{"structured without id", map[string]string{"Content-Type": "application/cloudevents+json"},
			`{"specversion":"1.0","source":"x","type":"t"}`, 400, `body: not a valid CloudEvent: id: MUST be a non-empty string`, ""},
		{"structured malformed", map[string]string{"Content-Type": "application/cloudevents+json"}, `{"specversion":`, 400, `body: not a CloudEvent`, ""},
		{"binary array of objects is data", binary("t4", "application/json"), `[{"a":1}]`, 202, `"activationId"`, `{"data":[{"a":1}]}`},
		{"empty batch", map[string]string{"Content-Type": "application/cloudevents-batch+json"}, `[]`, 400, "body: the batch holds no CloudEvent", ""},
		{"batch with a charset", map[string]string{"Content-Type": "application/cloudevents-batch+json; charset=utf-8"},
			`[{"specversion":"1.0","id":"c1","source":"x","type":"t","data":{"total":9}}]`, 202, `"activationIds":["`, ""},
		{"structured with a charset and text data", map[string]string{"Content-Type": "application/cloudevents+json; charset=UTF-8"},
			`{"specversion":"1.0","id":"c2","source":"x","type":"t","datacontenttype":"text/plain","data":"hi there"}`, 202, `"activationId"`, `{"data":"hi there"}`},
		{"batch too large", map[string]string{"Content-Type": "application/cloudevents-batch+json"},
			"[" + strings.TrimSuffix(strings.Repeat(`{"specversion":"1.0","id":"x","source":"x","type":"t"},`, maxBatch+1), ",") + "]", 400, "more than the limit of 100", ""},
		{"binary data too deep", binary("t5", "application/json"), `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, 400, "deeper than the limit", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, tc.headers, tc.body)
			if code != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want %d with %q", code, body, tc.status, tc.want)
			}
			if tc.result == "" {
				return
			}
			var ans struct{ ActivationID string }
			_ = json.Unmarshal([]byte(body), &ans)
			act, _, err := getActivation(t, f, ans.ActivationID)
			if err != nil || string(act.Response.Result) != tc.result {
				t.Fatalf("result %s, %v; want %s", act.Response.Result, err, tc.result)
			}
		})
	}
}
