package mqtt

import (
	"bytes"
	"context"
	"encoding/json"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/feeds"
)

// Actions adds the publish action to the catalogue package
// /whisk.system/mqtt (the feed manager installs it with the feed).
func (p *Provider) Actions() []feeds.Action {
	return []feeds.Action{{
		Name:        "publish",
		Description: "Publishes a message to an MQTT broker: url, topic, message, qos, retain, username, password",
		Func:        p.Publish,
	}}
}

// PublishResult is the publish action's result.
type PublishResult struct {
	Topic  string `json:"topic"`
	QoS    byte   `json:"qos"`
	Retain bool   `json:"retain"`
	// Bytes is the size of the message sent.
	Bytes int `json:"bytes"`
}

// Publish is the publish action: it connects (clean session, a throwaway
// client id), publishes message to topic and waits for the broker's
// acknowledgement when qos is 1 or 2. message is sent as is when it is a
// string, as its JSON text otherwise.
func (p *Provider) Publish(ctx context.Context, call builtin.Call) (json.RawMessage, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(call.Params, &params); err != nil {
		return nil, builtin.Errorf("parameters: not a JSON object")
	}
	c, err := parseConn(params)
	if err != nil {
		return nil, err
	}
	topic, err := requiredString(params, "topic")
	if err != nil {
		return nil, err
	}
	if err := checkTopicName(topic); err != nil {
		return nil, err
	}
	message, err := messageParam(params)
	if err != nil {
		return nil, err
	}
	qos, err := qosParam(params, 0)
	if err != nil {
		return nil, err
	}
	retain, err := boolParam(params, "retain")
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	client := paho.NewClient(p.clientOptions(c, throwawayClientID("wisp-pub-")))
	if err := wait(ctx, client.Connect()); err != nil {
		return nil, brokerError(c.URL, err)
	}
	defer client.Disconnect(250)
	if err := wait(ctx, client.Publish(topic, qos, retain, message)); err != nil {
		return nil, builtin.Errorf("publish to %q at %s: %v", topic, c.URL, connectError(err))
	}
	return json.Marshal(PublishResult{Topic: topic, QoS: qos, Retain: retain, Bytes: len(message)})
}

// messageParam reads message: a string is sent as its text, any other
// JSON value as its (compact) JSON.
func messageParam(params map[string]json.RawMessage) ([]byte, error) {
	raw, ok := params["message"]
	if !ok {
		return nil, builtin.Errorf("message: required (a string, or any JSON value)")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []byte(s), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, builtin.Errorf("message: not valid JSON: %v", err)
	}
	return b.Bytes(), nil
}
