package mqtt

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/feeds/feedstest"
	"github.com/wispio/wisp/internal/testenv"
)

// mosquittoAuth returns the password-protected Mosquitto's address without
// credentials, and its one account.
func mosquittoAuth(t *testing.T) (addr, user, password string) {
	t.Helper()
	u, err := url.Parse(testenv.MosquittoAuth(t))
	if err != nil || u.User == nil {
		t.Fatalf("WISP_TEST_MQTT_AUTH %q: %v, want tcp://USER:PASSWORD@HOST:PORT", u, err)
	}
	password, _ = u.User.Password()
	user = u.User.Username()
	u.User = nil
	return u.String(), user, password
}

// TestMosquittoCredentials: on a Mosquitto with a password file, CREATE's
// check (Validate) accepts the right account and refuses a wrong password
// or none, naming the url parameter and never repeating the password.
func TestMosquittoCredentials(t *testing.T) {
	addr, user, password := mosquittoAuth(t)
	tests := []struct {
		name    string
		params  map[string]any
		wantErr string // "" for valid
	}{
		{"right password", map[string]any{"url": addr, "topic": "a/#", "username": user, "password": password}, ""},
		{"wrong password", map[string]any{"url": addr, "topic": "a/#", "username": user, "password": "wrong-" + password}, "url: cannot connect to the broker at " + addr + ": "},
		{"unknown user", map[string]any{"url": addr, "topic": "a/#", "username": "nobody", "password": password}, "url: cannot connect to the broker at " + addr + ": "},
		{"no credentials", map[string]any{"url": addr, "topic": "a/#"}, "url: cannot connect to the broker at " + addr + ": "},
	}
	p := testProvider()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Validate(context.Background(), MessagesFeed, rawParams(t, tt.params))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error starting %q", err, tt.wantErr)
			}
			// The broker's refusal, in paho's fixed wording of its CONNACK code.
			if msg := err.Error(); !strings.Contains(msg, "not Authorized") && !strings.Contains(msg, "bad user name or password") {
				t.Errorf("Validate = %v, want the broker's refusal", err)
			}
			if !errors.Is(err, feeds.ErrInvalid) {
				t.Errorf("Validate = %v, not a feeds.ErrInvalid", err)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Validate = %v repeats the password", err)
			}
		})
	}
}

// TestMosquittoReconnect: Mosquitto drops a feed's connection when another
// client connects with its client id; the feed reports the loss, connects
// again with its credentials once the intruder leaves, subscribes again and
// delivers.
func TestMosquittoReconnect(t *testing.T) {
	addr, user, password := mosquittoAuth(t)
	topic := uniqueTopic(t)
	clientID := throwawayClientID("wisp-test-takeover-")
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/guest/takeover", map[string]any{
		"url": addr, "topic": topic + "/#", "qos": 1, "clientId": clientID, "username": user, "password": password,
	}, sink)

	intruder := paho.NewClient(paho.NewClientOptions().AddBroker(addr).SetClientID(clientID).
		SetUsername(user).SetPassword(password).SetAutoReconnect(false).SetConnectRetry(false))
	if tok := intruder.Connect(); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("connect the intruder as %s: %v", clientID, tok.Error())
	}
	if err := sink.WaitReport(t, false); !strings.Contains(err.Error(), "connection to "+addr+" lost") {
		t.Errorf("reported %v, want the lost connection to %s", err, addr)
	}
	intruder.Disconnect(0)
	sink.WaitReport(t, true)

	authURL := testenv.MosquittoAuth(t)
	publish(t, publisher(t, authURL), topic+"/x", 1, false, []byte(`"back"`))
	if m := nextMessage(t, sink); string(m.Payload) != `"back"` {
		t.Errorf("after reconnecting got %s", m.Payload)
	}
}
