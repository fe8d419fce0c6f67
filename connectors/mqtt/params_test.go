package mqtt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wispio/wisp/feeds"
)

func TestCheckTopicFilter(t *testing.T) {
	tests := []struct {
		topic   string
		wantErr string // "" for valid
	}{
		{"a/b/c", ""},
		{"a/+/c", ""},
		{"a/#", ""},
		{"#", ""},
		{"+", ""},
		{"+/+/#", ""},
		{"/a/", ""},
		{"", "must not be empty"},
		{"a/#/b", "must be the last level"},
		{"a/b#", "# must stand alone"},
		{"a/b+/c", "+ must stand alone"},
		{"a/\x00", "NUL"},
		{"a/\xff", "UTF-8"},
	}
	for _, tt := range tests {
		err := checkTopicFilter(tt.topic)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("checkTopicFilter(%q) = %v, want nil", tt.topic, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "topic: ") {
			t.Errorf("checkTopicFilter(%q) = %v, want a topic error with %q", tt.topic, err, tt.wantErr)
		}
	}
}

func TestMatchTopic(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+/c", "a/b/c", true},
		{"a/+/c", "a/b/d", false},
		{"a/+/c", "a/b/c/d", false},
		{"a/+", "a/", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "b/c", false},
		{"#", "x/y", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"$share/g/a/+", "a/b", true},
	}
	for _, tt := range tests {
		if got := matchTopic(tt.filter, tt.topic); got != tt.want {
			t.Errorf("matchTopic(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestParseFeedParams(t *testing.T) {
	tests := []struct {
		name    string
		params  string
		wantErr string
		check   func(feedParams) bool
	}{
		{"defaults", `{"url":"tcp://h:1883","topic":"a/#"}`, "",
			func(p feedParams) bool { return p.QoS == DefaultQoS && p.Format == FormatAuto && p.ClientID == "" }},
		{"qos as string", `{"url":"tcp://h:1883","topic":"a","qos":"2","format":"base64","clientId":"dev"}`, "",
			func(p feedParams) bool { return p.QoS == 2 && p.Format == FormatBase64 && p.ClientID == "dev" }},
		{"qos 0", `{"url":"mqtts://h:8883","topic":"a","qos":0}`, "", func(p feedParams) bool { return p.QoS == 0 }},
		{"no url", `{"topic":"a"}`, "url: required", nil},
		{"url not a string", `{"url":1883,"topic":"a"}`, "url: must be a string", nil},
		{"http url", `{"url":"http://h:80","topic":"a"}`, `url: scheme "http"`, nil},
		{"no port", `{"url":"tcp://h","topic":"a"}`, "has no port", nil},
		{"bad port", `{"url":"tcp://h:99999","topic":"a"}`, "url: port", nil},
		{"no scheme", `{"url":"localhost:1883","topic":"a"}`, "url: ", nil},
		{"credentials in url", `{"url":"tcp://u:secret@h:1883","topic":"a"}`, "must not hold credentials", nil},
		{"no topic", `{"url":"tcp://h:1883"}`, "topic: required", nil},
		{"bad topic", `{"url":"tcp://h:1883","topic":"a/#/b"}`, "topic: ", nil},
		{"qos 3", `{"url":"tcp://h:1883","topic":"a","qos":3}`, "qos: 3 is not 0, 1 or 2", nil},
		{"bad format", `{"url":"tcp://h:1883","topic":"a","format":"xml"}`, "format: ", nil},
		{"password alone", `{"url":"tcp://h:1883","topic":"a","password":"secret"}`, "password: given without a username", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var params map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.params), &params); err != nil {
				t.Fatal(err)
			}
			p, err := parseFeedParams(params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
				}
				if !errors.Is(err, feeds.ErrInvalid) {
					t.Errorf("err = %v does not match feeds.ErrInvalid", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("err = %v repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !tt.check(p) {
				t.Errorf("params = %+v", p)
			}
		})
	}
}

func TestEncodePayload(t *testing.T) {
	binary := []byte{0xff, 0x00, 0x10}
	b64 := base64.StdEncoding.EncodeToString(binary)
	tests := []struct {
		body   []byte
		format string
		want   string // the Message fields besides topic/qos/... as JSON
	}{
		{[]byte(`{"t": 21.5}`), FormatAuto, `{"payload":{"t":21.5}}`},
		{[]byte(`42`), FormatAuto, `{"payload":42}`},
		{[]byte(`hello`), FormatAuto, `{"payload":"hello"}`},
		{[]byte(``), FormatAuto, `{"payload":""}`},
		{binary, FormatAuto, `{"payloadBase64":"` + b64 + `"}`},
		{[]byte(`{"t":1}`), FormatJSON, `{"payload":{"t":1}}`},
		{[]byte(`{"t":`), FormatJSON, `{"payload":"{\"t\":","payloadError":"payload is not valid JSON"}`},
		{binary, FormatJSON, `{"payloadBase64":"` + b64 + `","payloadError":"payload is not valid JSON"}`},
		{[]byte(`{"t":1}`), FormatText, `{"payload":"{\"t\":1}"}`},
		{binary, FormatText, `{"payloadBase64":"` + b64 + `","payloadError":"payload is not valid UTF-8 text"}`},
		{[]byte(`hi`), FormatBase64, `{"payloadBase64":"aGk="}`},
	}
	for _, tt := range tests {
		var m Message
		m.encodePayload(tt.body, tt.format)
		got, err := json.Marshal(struct {
			Payload       json.RawMessage `json:"payload,omitempty"`
			PayloadBase64 string          `json:"payloadBase64,omitempty"`
			PayloadError  string          `json:"payloadError,omitempty"`
		}{m.Payload, m.PayloadBase64, m.PayloadError})
		if err != nil {
			t.Fatalf("%s %q: marshal: %v", tt.format, tt.body, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s %q: got %s, want %s", tt.format, tt.body, got, tt.want)
		}
	}
}

// FuzzFirePayload checks that any message becomes a JSON object from
// which the message's bytes can be recovered.
func FuzzFirePayload(f *testing.F) {
	for _, seed := range []string{`{"a":1}`, "text", "\xff\xfe", "", `"quoted"`, " 1 "} {
		f.Add([]byte(seed), "auto")
	}
	f.Fuzz(func(t *testing.T, body []byte, format string) {
		switch format {
		case FormatAuto, FormatJSON, FormatText, FormatBase64:
		default:
			format = FormatAuto
		}
		raw, err := firePayload("t", body, 1, false, false, 7, format)
		if err != nil {
			t.Fatalf("firePayload: %v", err)
		}
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("not a JSON object: %s", raw)
		}
		switch {
		case m.PayloadBase64 != "":
			got, err := base64.StdEncoding.DecodeString(m.PayloadBase64)
			if err != nil || string(got) != string(body) {
				t.Fatalf("payloadBase64 %q does not decode to %q", m.PayloadBase64, body)
			}
		case !utf8.Valid(body):
			t.Fatalf("binary %q without payloadBase64: %s", body, raw)
		case m.Payload == nil:
			if len(body) != 0 {
				t.Fatalf("no payload for %q: %s", body, raw)
			}
		}
	})
}
