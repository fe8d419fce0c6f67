package mqtt

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Message is the fire payload of the messages feed: the trigger's
// activation (and the rules' actions) receive these fields.
type Message struct {
	// Topic is the topic the message was published on.
	Topic string `json:"topic"`
	// Payload is the message as a JSON value (format auto or json, when
	// it parses) or as a string (UTF-8 text); absent when the message is
	// carried in PayloadBase64.
	Payload json.RawMessage `json:"payload,omitempty"`
	// PayloadBase64 carries a binary message (not UTF-8), or every
	// message with format base64.
	PayloadBase64 string `json:"payloadBase64,omitempty"`
	// PayloadError says why the message did not have the asked format
	// (format json or text); the message is delivered anyway.
	PayloadError string `json:"payloadError,omitempty"`
	// QoS is the message's delivery QoS (the lower of the publisher's and
	// the subscription's).
	QoS byte `json:"qos"`
	// Retained is set for a retained message sent on subscription.
	Retained bool `json:"retained"`
	// Duplicate is set when the broker redelivers a message it may have
	// sent before (after a reconnection, or a delivery that failed).
	Duplicate bool `json:"duplicate"`
	// MessageID is the MQTT packet id (0 for QoS 0); the broker reuses
	// ids, so it identifies a message only among those in flight.
	MessageID uint16 `json:"messageId"`
}

// encodePayload fills m's payload fields from the message bytes in the
// given format.
func (m *Message) encodePayload(body []byte, format string) {
	isText := utf8.Valid(body)
	switch format {
	case FormatBase64:
		m.PayloadBase64 = base64.StdEncoding.EncodeToString(body)
		return
	case FormatAuto, FormatJSON:
		if isText && json.Valid(body) {
			m.Payload = json.RawMessage(body)
			return
		}
		if format == FormatJSON {
			m.PayloadError = "payload is not valid JSON"
		}
	case FormatText:
		if !isText {
			m.PayloadError = "payload is not valid UTF-8 text"
		}
	}
	if isText {
		text, _ := json.Marshal(string(body)) // a string always marshals
		m.Payload = text
		return
	}
	m.PayloadBase64 = base64.StdEncoding.EncodeToString(body)
}

// firePayload builds the fire payload of one message.
func firePayload(topic string, body []byte, qos byte, retained, duplicate bool, id uint16, format string) (json.RawMessage, error) {
	m := Message{Topic: topic, QoS: qos, Retained: retained, Duplicate: duplicate, MessageID: id}
	m.encodePayload(body, format)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode the message on %s: %w", topic, err)
	}
	return b, nil
}
