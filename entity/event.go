package entity

// EventAttributes are the CloudEvents context attributes of a fire (issue
// 17): what a CloudEvent posted to a trigger carries, or what a feed knows
// of its event (an MQTT topic, a GitHub event and action, a CouchDB doc
// id). Rule filters see them as event.*; a fire whose Source and ID are
// set has an activation id derived from them, so that the same event
// delivered twice fires once. All fields are optional.
type EventAttributes struct {
	ID          string `json:"id,omitempty"`
	Source      string `json:"source,omitempty"`
	Type        string `json:"type,omitempty"`
	Subject     string `json:"subject,omitempty"`
	Time        string `json:"time,omitempty"`
	SpecVersion string `json:"specversion,omitempty"`
	// DataContentType is the media type of the event's data, when known.
	DataContentType string `json:"datacontenttype,omitempty"`
	// Extensions are further attributes (CloudEvents extension attributes),
	// rendered as strings.
	Extensions map[string]string `json:"extensions,omitempty"`
}

// Map renders the attributes as filters see them: one entry per set
// attribute, extensions beside the context attributes (a context
// attribute wins over an extension of the same name).
func (e *EventAttributes) Map() map[string]any {
	if e == nil {
		return map[string]any{}
	}
	m := make(map[string]any, 7+len(e.Extensions))
	for k, v := range e.Extensions {
		m[k] = v
	}
	for _, kv := range [...]struct{ k, v string }{
		{"id", e.ID}, {"source", e.Source}, {"type", e.Type}, {"subject", e.Subject},
		{"time", e.Time}, {"specversion", e.SpecVersion}, {"datacontenttype", e.DataContentType},
	} {
		if kv.v != "" {
			m[kv.k] = kv.v
		}
	}
	return m
}
