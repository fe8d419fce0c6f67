package metrics

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wispio/wisp/entity"
)

// triggerMetrics count fires and what their rules did.
type triggerMetrics struct {
	fires *prometheus.CounterVec
	rules *prometheus.CounterVec
}

func newTriggerMetrics(reg *prometheus.Registry) triggerMetrics {
	t := triggerMetrics{
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_trigger_fires_total", Help: "Trigger fires recorded (trigger activations)",
		}, []string{labelNamespace, "trigger"}),
		rules: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_rule_activations_total", Help: "What the rules of fired triggers did: activated (the action was started), inactive (rule disabled) or failed",
		}, []string{labelNamespace, "trigger", "outcome"}),
	}
	reg.MustRegister(t.fires, t.rules)
	return t
}

// ObserveTriggerActivation records one trigger activation record: the fire
// and each rule's outcome, read from its log lines (one rule result each).
func (m *Metrics) ObserveTriggerActivation(act *entity.Activation) {
	if m == nil || act == nil {
		return
	}
	m.triggers.fires.WithLabelValues(act.Namespace, act.Name).Inc()
	for _, line := range act.Logs {
		var r struct {
			Success  bool       `json:"success"`
			Error    string     `json:"error"`
			Filtered bool       `json:"filtered"`
			Rules    listLength `json:"rules"` // rules filtered out alike share a line
		}
		if i := strings.LastIndex(line, `,"rules":[`); i > 0 && strings.HasSuffix(line, "]}") {
			// Rules filtered out alike (routing's groupLine): count the
			// names instead of decoding them.
			r.Rules = listLength(strings.Count(line[i:], ",")) // the leading comma stands for the first name
			line = line[:i] + "}"
		}
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		outcome := "failed"
		switch {
		case r.Success:
			outcome = "activated"
		case strings.Contains(r.Error, "is inactive"):
			outcome = "inactive"
		case r.Filtered:
			outcome = "filtered" // its filter kept the event from the action
		}
		n := 1.0
		if r.Filtered && r.Rules > 1 {
			n = float64(r.Rules)
		}
		m.triggers.rules.WithLabelValues(act.Namespace, act.Name, outcome).Add(n)
	}
}

// listLength decodes a JSON array of rule names as its length, without
// decoding the names (a line may list a thousand): names hold no comma.
type listLength int

func (l *listLength) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || len(bytes.TrimSpace(b[1:len(b)-1])) == 0 {
		*l = 0
		return nil
	}
	*l = listLength(bytes.Count(b, []byte(",")) + 1)
	return nil
}
