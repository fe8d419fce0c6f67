package api

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// toolsTrigger makes trigger E in "me" with filtered rules that tell apart
// the events TestCloudEventsFromOtherTools posts, all starting action A.
func toolsTrigger(t *testing.T, f *fixture) {
	t.Helper()
	const ns = "/api/v1/namespaces/_/"
	for _, s := range []struct{ method, path, body string }{
		{"PUT", ns + "actions/A", nodeAction},
		{"PUT", ns + "triggers/E", `{}`},
		{"PUT", ns + "rules/orders", `{"trigger":"/_/E","action":"/_/A","filter":"event.type == 'com.example.order' && params.total > 100"}`},
		{"PUT", ns + "rules/ext", `{"trigger":"/_/E","action":"/_/A","filter":"event.myext == 'yes'"}`},
		{"PUT", ns + "rules/short", `{"trigger":"/_/E","action":"/_/A","filter":{"exact":{"myext":"yes"},"prefix":{"subject":"sensors/"}}}`},
		{"PUT", ns + "rules/xml", `{"trigger":"/_/E","action":"/_/A","filter":{"exact":{"datacontenttype":"application/xml"}}}`},
		{"PUT", ns + "rules/old", `{"trigger":"/_/E","action":"/_/A","filter":"event.specversion == '0.3'"}`},
	} {
		if code, _, raw := f.do(t, s.method, s.path, s.body, &f.auth); code != 200 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, code, raw)
		}
	}
}

// rulesRan lists, sorted, the rules of trigger activation id that its
// filters let through (the fixture has no invoker: they fail to start).
func rulesRan(t *testing.T, f *fixture, id string) []string {
	t.Helper()
	act, _, err := getActivation(t, f, id)
	if err != nil {
		t.Fatalf("trigger activation %s: %v", id, err)
	}
	var ran []string
	for _, l := range act.Logs {
		var r struct {
			Filtered bool
			Rule     string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Filtered {
			ran = append(ran, strings.TrimPrefix(r.Rule, "me/"))
		}
	}
	slices.Sort(ran)
	return ran
}

// TestCloudEventsFromOtherTools posts CloudEvents as curl, a Knative
// broker or another SDK would send them, bodies and headers written by
// hand (header names in lower case, as on the wire): each fires E with
// the data as params (result) and its attributes, extensions included,
// for the rules' filters (ran: the rules that passed, per event).
func TestCloudEventsFromOtherTools(t *testing.T) {
	f := newFixture(t)
	toolsTrigger(t, f)
	url := f.srv.URL + "/api/v1/namespaces/_/triggers/E"
	binary := func(spec, id, ct string, more ...string) map[string]string {
		h := map[string]string{"ce-specversion": spec, "ce-id": id, "ce-source": "curl", "ce-type": "com.example.order"}
		if ct != "" {
			h["content-type"] = ct
		}
		for i := 0; i+1 < len(more); i += 2 {
			h[more[i]] = more[i+1]
		}
		return h
	}
	structured := func(ct string) map[string]string { return map[string]string{"content-type": ct} }
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
		results []string   // each event's trigger activation result ("" not checked)
		ran     [][]string // each event's rules that ran
	}{
		{"structured with a charset", structured("application/cloudevents+json; charset=utf-8"),
			`{"specversion":"1.0","id":"s1","source":"urn:shop","type":"com.example.order","datacontenttype":"application/json","data":{"total":250}}`,
			[]string{`{"total":250}`}, [][]string{{"orders"}}},
		{"structured with an extension and subject", structured("application/cloudevents+json"),
			`{"specversion":"1.0","id":"s2","source":"urn:iot","type":"reading","subject":"sensors/k1","myext":"yes","data":{"total":1}}`,
			[]string{`{"total":1}`}, [][]string{{"ext", "short"}}},
		{"structured data_base64 JSON", structured("application/cloudevents+json"),
			`{"specversion":"1.0","id":"s3","source":"urn:shop","type":"com.example.order","datacontenttype":"application/json","data_base64":"eyJ0b3RhbCI6IDUwMH0="}`,
			[]string{`{"total":500}`}, [][]string{{"orders"}}},
		{"structured data_base64 text", structured("application/cloudevents+json"),
			`{"specversion":"1.0","id":"s4","source":"urn:x","type":"t","datacontenttype":"text/plain","data_base64":"aGVsbG8="}`,
			[]string{`{"data":"hello"}`}, [][]string{nil}},
		{"structured XML data", structured("application/cloudevents+json"),
			`{"specversion":"1.0","id":"s5","source":"urn:x","type":"t","datacontenttype":"application/xml","data":"<total>9</total>"}`,
			[]string{`{"data":"\u003ctotal\u003e9\u003c/total\u003e"}`}, [][]string{{"xml"}}},
		{"batch", structured("application/cloudevents-batch+json"),
			`[{"specversion":"1.0","id":"b1","source":"urn:shop","type":"com.example.order","data":{"total":101}},
			  {"specversion":"1.0","id":"b2","source":"urn:shop","type":"com.example.order","myext":"yes","data":{"total":100}}]`,
			[]string{`{"total":101}`, `{"total":100}`}, [][]string{{"orders"}, {"ext"}}},
		{"binary JSON with extension", binary("1.0", "c1", "application/json", "ce-myext", "yes", "ce-subject", "sensors/k2"),
			`{"total": 300}`, []string{`{"total":300}`}, [][]string{{"ext", "orders", "short"}}},
		{"binary JSON with a charset", binary("1.0", "c2", "application/json; charset=utf-8"),
			`{"total": 120}`, []string{`{"total":120}`}, [][]string{{"orders"}}},
		{"binary text", binary("1.0", "c3", "text/plain"), "total 900", []string{`{"data":"total 900"}`}, [][]string{nil}},
		{"binary XML", binary("1.0", "c4", "application/xml"), "<total>900</total>",
			[]string{`{"data":"\u003ctotal\u003e900\u003c/total\u003e"}`}, [][]string{{"xml"}}},
		{"binary without content type, JSON", binary("1.0", "c5", ""), `{"total": 200}`, []string{`{"total":200}`}, [][]string{{"orders"}}},
		{"binary without content type, text", binary("1.0", "c6", ""), "plain words", []string{`{"data":"plain words"}`}, [][]string{nil}},
		{"binary 0.3", binary("0.3", "c7", "application/json"), `{"total": 150}`, []string{`{"total":150}`}, [][]string{{"old", "orders"}}},
		{"structured 0.3 base64", structured("application/cloudevents+json"),
			`{"specversion":"0.3","id":"s6","source":"urn:shop","type":"com.example.order","datacontenttype":"application/json","datacontentencoding":"base64","data":"eyJ0b3RhbCI6IDUwMH0="}`,
			[]string{`{"total":500}`}, [][]string{{"old", "orders"}}},
		{"structured 0.3", structured("application/cloudevents+json"),
			`{"specversion":"0.3","id":"s7","source":"urn:shop","type":"com.example.order","myext":"yes","data":{"total":5}}`,
			[]string{`{"total":5}`}, [][]string{{"ext", "old"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header[k] = []string{v} // as written, not canonicalised
			}
			req.SetBasicAuth(f.auth.UUID, f.auth.Key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var ans struct {
				ActivationID  string
				ActivationIDs []string
			}
			if err := json.Unmarshal(raw, &ans); err != nil || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
			ids := ans.ActivationIDs
			if ans.ActivationID != "" {
				ids = []string{ans.ActivationID}
			}
			if len(ids) != len(tc.ran) {
				t.Fatalf("%d activation ids %s, want %d", len(ids), raw, len(tc.ran))
			}
			for i, id := range ids {
				act, _, _ := getActivation(t, f, id)
				if got := string(act.Response.Result); got != tc.results[i] {
					t.Errorf("event %d: result %s, want %s", i, got, tc.results[i])
				}
				var ce struct{ ID, Source, Type string }
				if raw, ok := act.Annotations.Get("cloudevent"); !ok || json.Unmarshal(raw, &ce) != nil || ce.ID == "" || ce.Source == "" || ce.Type == "" {
					t.Errorf("event %d: annotations %v lack the cloudevent's id, source and type", i, act.Annotations)
				}
				if got := rulesRan(t, f, id); !slices.Equal(got, tc.ran[i]) {
					t.Errorf("event %d: rules %v ran, want %v; logs %s", i, got, tc.ran[i], strings.Join(act.Logs, "\n"))
				}
			}
		})
	}
}

// TestTriggerActivationRecordsTheCloudEvent: the trigger activation of a
// CloudEvent fire is annotated with its id, source, type, subject and
// time; a plain fire has no such annotation.
func TestTriggerActivationRecordsTheCloudEvent(t *testing.T) {
	f := newFixture(t)
	toolsTrigger(t, f)
	url := f.srv.URL + "/api/v1/namespaces/_/triggers/E"
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    string // the annotation's value; "" none
	}{
		{"binary", map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "a1", "Ce-Source": "urn:x", "Ce-Type": "t.x", "Ce-Subject": "s/1", "Ce-Time": "2026-12-03T10:00:00Z", "Content-Type": "application/json"},
			`{"id":"a1","source":"urn:x","type":"t.x","subject":"s/1","time":"2026-12-03T10:00:00Z"}`},
		{"plain", map[string]string{"Content-Type": "application/json"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(`{"total": 1}`))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			req.SetBasicAuth(f.auth.UUID, f.auth.Key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var ans struct{ ActivationID string }
			if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusAccepted {
				t.Fatalf("%d, %v", resp.StatusCode, err)
			}
			act, _, _ := getActivation(t, f, ans.ActivationID)
			got, ok := act.Annotations.Get("cloudevent")
			if (tc.want == "") == ok || (ok && string(got) != tc.want) {
				t.Fatalf("cloudevent annotation %s (%v), want %q", got, ok, tc.want)
			}
		})
	}
}
