package client

import (
	"context"
	"errors"
	"testing"
)

func TestInvokeOutcomes(t *testing.T) {
	const activation = `{"activationId":"a1","namespace":"guest","name":"hello","start":1,"end":2,"duration":1,
		"response":{"status":"success","statusCode":0,"success":true,"result":{"payload":"hi"}},"logs":[]}`
	const failed = `{"activationId":"a2","namespace":"guest","name":"hello",
		"response":{"status":"application error","statusCode":1,"success":false,"result":{"error":"boom"}}}`
	tests := []struct {
		name             string
		blocking, result bool
		status           int
		body             string
		header           string // X-OpenWhisk-Activation-Id
		wantID           string
		wantAccepted     bool
		wantActivation   bool
		wantResult       string
		wantStatus       int // of an *Error; 0 for none
		wantInvocation   bool
	}{
		{name: "non-blocking is accepted", status: 202, body: `{"activationId":"a0"}`,
			wantID: "a0", wantAccepted: true, wantInvocation: true},
		{name: "blocking returns the activation", blocking: true, status: 200, body: activation,
			wantID: "a1", wantActivation: true, wantResult: `{"payload":"hi"}`, wantInvocation: true},
		{name: "blocking result returns the result", blocking: true, result: true, status: 200, body: `{"payload":"hi"}`,
			header: "a3", wantID: "a3", wantResult: `{"payload":"hi"}`, wantInvocation: true},
		{name: "blocking past the wait is accepted", blocking: true, status: 202, body: `{"activationId":"a4"}`,
			wantID: "a4", wantAccepted: true, wantInvocation: true},
		{name: "application error keeps the activation", blocking: true, status: 502, body: failed,
			wantID: "a2", wantActivation: true, wantResult: `{"error":"boom"}`, wantStatus: 502, wantInvocation: true},
		{name: "application error with result", blocking: true, result: true, status: 502, body: `{"error":"boom"}`,
			wantResult: `{"error":"boom"}`, wantStatus: 502, wantInvocation: true},
		{name: "api error", blocking: true, status: 502, body: `{"error":"invoker unreachable","code":"x1"}`,
			wantStatus: 502},
		{name: "throttled", status: 429, body: `{"error":"Too many requests in the last minute.","code":"x2"}`,
			wantStatus: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, srv := newFakeAPI(t, tt.status, tt.body)
			if tt.header != "" {
				api.header.Set("X-OpenWhisk-Activation-Id", tt.header)
			}
			c := New(Config{APIHost: srv.URL, Auth: testAuth})
			inv, resp, err := c.InvokeAction(context.Background(), "hello", nil, tt.blocking, tt.result)
			var e *Error
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("invoke: %v", err)
			case tt.wantStatus != 0 && (!errors.As(err, &e) || e.StatusCode != tt.wantStatus):
				t.Fatalf("err = %v, want an *Error with status %d", err, tt.wantStatus)
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("response = %+v, want status %d", resp, tt.status)
			}
			if (inv != nil) != tt.wantInvocation {
				t.Fatalf("invocation = %+v, want one: %v", inv, tt.wantInvocation)
			}
			if inv == nil {
				return
			}
			if inv.ActivationID != tt.wantID || inv.Accepted != tt.wantAccepted || (inv.Activation != nil) != tt.wantActivation {
				t.Fatalf("invocation = %+v", inv)
			}
			if tt.wantResult != "" {
				sameJSON(t, string(inv.Result), tt.wantResult)
			}
		})
	}
}

func TestApplicationErrorMessage(t *testing.T) {
	_, srv := newFakeAPI(t, 502, `{"error":"boom"}`)
	c := New(Config{APIHost: srv.URL})
	_, _, err := c.InvokeAction(context.Background(), "hello", nil, true, true)
	if err == nil || err.Error() != "invoke action /_/hello: the action returned an error: boom" {
		t.Fatalf("err = %v", err)
	}
}

func TestActionURL(t *testing.T) {
	c := New(Config{APIHost: "localhost:3233"})
	tests := []struct {
		name string
		web  bool
		want string
	}{
		{"/guest/hello", false, "http://localhost:3233/api/v1/namespaces/guest/actions/hello"},
		{"/guest/pkg/hello", false, "http://localhost:3233/api/v1/namespaces/guest/actions/pkg/hello"},
		{"/guest/hello", true, "http://localhost:3233/api/v1/web/guest/default/hello"},
		{"/guest/pkg/say hi", true, "http://localhost:3233/api/v1/web/guest/pkg/say%20hi"},
	}
	for _, tt := range tests {
		qn, err := ParseName(tt.name, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ActionURL(qn, tt.web)
		if err != nil || got != tt.want {
			t.Errorf("ActionURL(%s, %v) = %q, %v, want %q", tt.name, tt.web, got, err, tt.want)
		}
	}
}
