package client

import "encoding/json"

// KeyValue is one entry of an entity's parameters or annotations.
type KeyValue struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// KeyValues is OpenWhisk's list form of parameters and annotations.
type KeyValues []KeyValue

// Get returns the value stored under key, or nil.
func (kvs KeyValues) Get(key string) any {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// Action mirrors OpenWhisk's action JSON.
type Action struct {
	Namespace   string    `json:"namespace,omitempty"`
	Name        string    `json:"name,omitempty"`
	Version     string    `json:"version,omitempty"`
	Publish     bool      `json:"publish,omitempty"`
	Exec        *Exec     `json:"exec,omitempty"`
	Parameters  KeyValues `json:"parameters,omitempty"`
	Annotations KeyValues `json:"annotations,omitempty"`
	Limits      *Limits   `json:"limits,omitempty"`
	Updated     int64     `json:"updated,omitempty"`
}

// Exec is an action's code and how to run it. Code holds base64 when Binary is
// set (zip archives); Image names a blackbox image; Components lists the fully
// qualified actions of a sequence.
type Exec struct {
	Kind       string   `json:"kind,omitempty"`
	Code       string   `json:"code,omitempty"`
	Binary     bool     `json:"binary,omitempty"`
	Main       string   `json:"main,omitempty"`
	Image      string   `json:"image,omitempty"`
	Components []string `json:"components,omitempty"`
}

// Limits are an action's resource limits; a nil field is left to the server.
type Limits struct {
	Timeout     *int `json:"timeout,omitempty"`     // milliseconds
	Memory      *int `json:"memory,omitempty"`      // MB
	Logs        *int `json:"logs,omitempty"`        // MB
	Concurrency *int `json:"concurrency,omitempty"` // activations per container
}

// Activation mirrors OpenWhisk's activation record JSON. Start, End and
// Duration are milliseconds (Start and End since the Unix epoch).
type Activation struct {
	ActivationID string             `json:"activationId"`
	Namespace    string             `json:"namespace"`
	Name         string             `json:"name"`
	Version      string             `json:"version,omitempty"`
	Subject      string             `json:"subject,omitempty"`
	Cause        string             `json:"cause,omitempty"`
	Start        int64              `json:"start"`
	End          int64              `json:"end,omitempty"`
	Duration     int64              `json:"duration,omitempty"`
	StatusCode   int                `json:"statusCode,omitempty"`
	Response     ActivationResponse `json:"response"`
	Logs         []string           `json:"logs,omitempty"`
	Annotations  KeyValues          `json:"annotations,omitempty"`
	Publish      bool               `json:"publish,omitempty"`
}

// ActivationResponse is the outcome of an activation. StatusCode is 0 for
// success, 1 application error, 2 action developer error, 3 internal error.
type ActivationResponse struct {
	Status     string          `json:"status"`
	StatusCode int             `json:"statusCode"`
	Success    bool            `json:"success"`
	Result     json.RawMessage `json:"result,omitempty"`
}

// Invocation is what an invoke returned. Accepted means the server answered
// 202: the activation was queued (non-blocking) or is still running past the
// blocking wait, and only ActivationID is known. Otherwise Activation holds
// the record (invoke without result) and Result the action's result.
type Invocation struct {
	ActivationID string
	Accepted     bool
	Activation   *Activation
	Result       json.RawMessage
}

// Info is the API description served unauthenticated at /api/v1.
type Info struct {
	Description string                     `json:"description,omitempty"`
	APIPaths    []string                   `json:"api_paths,omitempty"`
	Build       string                     `json:"build,omitempty"`
	BuildNo     string                     `json:"buildno,omitempty"`
	Limits      map[string]any             `json:"limits,omitempty"`
	Runtimes    map[string]json.RawMessage `json:"runtimes,omitempty"`
}
