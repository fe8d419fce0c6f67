package entity

import (
	"bytes"
	"encoding/json"
)

// KeyValue is one parameter or annotation in OpenWhisk's array form.
type KeyValue struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	// Init marks a parameter passed to /init as environment rather than to
	// /run (OpenWhisk's "init" flag).
	Init bool `json:"init,omitempty"`
}

// Params is an ordered list of key/value pairs; later keys do not repeat.
type Params []KeyValue

// Get returns the raw value of key and whether it is present.
func (p Params) Get(key string) (json.RawMessage, bool) {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// GetString returns the value of key when it is a JSON string.
func (p Params) GetString(key string) (string, bool) {
	raw, ok := p.Get(key)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// IsTrue reports whether key is present with the JSON value true.
func (p Params) IsTrue(key string) bool {
	raw, ok := p.Get(key)
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("true"))
}

// Set returns p with key set to value, replacing an existing entry in place.
func (p Params) Set(key string, value any) Params {
	raw, err := json.Marshal(value)
	if err != nil {
		raw = []byte("null")
	}
	for i := range p {
		if p[i].Key == key {
			out := append(Params(nil), p...)
			out[i].Value = raw
			return out
		}
	}
	return append(append(Params(nil), p...), KeyValue{Key: key, Value: raw})
}

// Merge returns p overridden by each of the later lists in order: a key in a
// later list replaces the same key of an earlier one. It allocates a new list.
func (p Params) Merge(later ...Params) Params {
	n := len(p)
	for _, l := range later {
		n += len(l)
	}
	if n == 0 {
		return nil
	}
	out := make(Params, len(p), n)
	copy(out, p)
	var m merger
	for _, l := range later {
		for _, kv := range l {
			out = m.put(out, kv)
		}
	}
	return out
}

// mergeIndexAt is the length from which a merger looks keys up in a map
// rather than by scanning: short lists (the usual few parameters) scan.
const mergeIndexAt = 16

// merger sets keys in a list, replacing a key already there, in time linear
// in the number of keys overall: a client's object of many thousands of keys
// would otherwise cost a scan per key.
type merger struct {
	index map[string]int
}

// put sets kv in out (replacing the same key) and returns out.
func (m *merger) put(out Params, kv KeyValue) Params {
	if m.index == nil && len(out) >= mergeIndexAt {
		m.index = make(map[string]int, 2*len(out))
		for i, e := range out {
			m.index[e.Key] = i
		}
	}
	if m.index != nil {
		if i, ok := m.index[kv.Key]; ok {
			out[i] = kv
			return out
		}
		m.index[kv.Key] = len(out)
		return append(out, kv)
	}
	for i := range out {
		if out[i].Key == kv.Key {
			out[i] = kv
			return out
		}
	}
	return append(out, kv)
}

// Validate checks that keys are present and unique and that values are JSON.
func (p Params) Validate(field string) error {
	seen := make(map[string]struct{}, len(p))
	for _, kv := range p {
		if kv.Key == "" {
			return Invalid(field, "a key is missing")
		}
		if _, dup := seen[kv.Key]; dup {
			return Invalid(field, "key %q appears more than once", kv.Key)
		}
		seen[kv.Key] = struct{}{}
		if len(kv.Value) == 0 {
			return Invalid(field+"."+kv.Key, "value is missing")
		}
	}
	return nil
}

// Size is the number of bytes p takes in JSON, as OpenWhisk measures the
// parameter size limit.
func (p Params) Size() int {
	n := 0
	for _, kv := range p {
		n += len(kv.Key) + len(kv.Value)
	}
	return n
}

// Object renders the list as one JSON object, the form actions receive.
func (p Params) Object() json.RawMessage {
	if len(p) == 0 {
		return json.RawMessage("{}")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Key)
		b.Write(k)
		b.WriteByte(':')
		if len(kv.Value) == 0 {
			b.WriteString("null")
		} else {
			b.Write(kv.Value)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// ParamsFromObject turns a JSON object into a parameter list, keeping the
// object's key order. A null or empty body is an empty list; one nesting
// deeper than MaxJSONDepth is refused.
func ParamsFromObject(field string, raw []byte) (Params, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if err := CheckJSONDepth(field, raw); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, Invalid(field, "must be a JSON object")
	}
	var out Params
	var m merger
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, Invalid(field, "malformed JSON object: %v", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, Invalid(field+"."+key, "malformed JSON value: %v", err)
		}
		out = m.put(out, KeyValue{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, Invalid(field, "malformed JSON object: %v", err)
	}
	if dec.More() {
		return nil, Invalid(field, "trailing data after the JSON object")
	}
	return out, nil
}
