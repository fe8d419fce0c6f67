package natssub

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Message is the fire payload of the messages feed: the trigger's
// activation (and the rules' actions) receive these fields.
type Message struct {
	// Subject is the subject the message was published on.
	Subject string `json:"subject"`
	// Data is the message as a JSON value when it parses, else as a
	// string; absent when the message is not UTF-8 (see DataBase64).
	Data json.RawMessage `json:"data,omitempty"`
	// DataBase64 carries a message that is not UTF-8 text.
	DataBase64 string `json:"dataBase64,omitempty"`
	// Headers are the message's NATS headers (absent when it has none).
	Headers map[string][]string `json:"headers,omitempty"`
	// Reply is the publisher's reply subject (a request), absent when
	// none; JetStream messages have none.
	Reply string `json:"reply,omitempty"`
	// Stream and Sequence locate a JetStream message in its stream.
	Stream   string `json:"stream,omitempty"`
	Sequence uint64 `json:"sequence,omitempty"`
}

// setData fills m's data fields from the message bytes.
func (m *Message) setData(body []byte) {
	switch {
	case !utf8.Valid(body):
		m.DataBase64 = base64.StdEncoding.EncodeToString(body)
	case json.Valid(body):
		m.Data = json.RawMessage(body)
	default:
		text, _ := json.Marshal(string(body)) // a string always marshals
		m.Data = text
	}
}

// firePayload encodes m with data set from body.
func firePayload(m Message, body []byte) (json.RawMessage, error) {
	m.setData(body)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode the message on %s: %w", m.Subject, err)
	}
	return b, nil
}
