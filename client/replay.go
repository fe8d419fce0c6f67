package client

import (
	"context"
	"fmt"
	"net/http"
)

// Replay asks for a trigger's archived events to be fired again; Since is
// required, Until and Rule optional (see Wisp's README, "Archive and
// replay").
type Replay struct {
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
	Rule  string `json:"rule,omitempty"`
	// Limit bounds the events of one call (the server's default 100, at
	// most 1,000); Continue, the Next of the previous answer, goes on.
	Limit    int    `json:"limit,omitempty"`
	Continue string `json:"continue,omitempty"`
}

// ReplayResult is the server's answer to a replay.
type ReplayResult struct {
	Events      int `json:"events"`
	Activations []struct {
		Cause        string `json:"cause"`
		Rule         string `json:"rule"`
		ActivationID string `json:"activationId,omitempty"`
		Error        string `json:"error,omitempty"`
	} `json:"activations"`
	// Next, when set, continues the replay (Replay.Continue).
	Next string `json:"next,omitempty"`
}

// ReplayTrigger fires the archived events of trigger name in the window
// again (POST .../triggers/NAME/replay).
func (c *Client) ReplayTrigger(ctx context.Context, name string, r Replay) (*ReplayResult, *Response, error) {
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: qn.path(Triggers) + "/replay", body: r})
	if err != nil {
		return nil, resp, fmt.Errorf("replay trigger %s: %w", qn, err)
	}
	var out ReplayResult
	if err := decode(resp.Body, &out); err != nil {
		return nil, resp, fmt.Errorf("replay trigger %s: decode response: %w", qn, err)
	}
	return &out, resp, nil
}
