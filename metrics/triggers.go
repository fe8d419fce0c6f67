package metrics

import (
	"encoding/json"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wispio/wisp/entity"
)

// ruleOutcomes are the outcomes of a fired trigger's rules.
var ruleOutcomes = [...]string{"activated", "inactive", "failed", "filtered"}

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
	trigger := act.Name
	if !m.triggerCap.admit(entityKey{ns: act.Namespace, name: trigger}) {
		trigger = otherLabel
	}
	m.triggers.fires.WithLabelValues(act.Namespace, trigger).Inc()
	var outcomes [len(ruleOutcomes)]int64
	defer func() { m.recent.fire(act.Namespace, act.Name, outcomes) }()
	for _, line := range act.Logs {
		var r struct {
			Success  bool   `json:"success"`
			Error    string `json:"error"`
			Filtered bool   `json:"filtered"`
			Count    int    `json:"count"` // rules filtered out alike share a line
		}
		if i := strings.LastIndex(line, `,"rules":[`); i > 0 && strings.HasSuffix(line, "]}") {
			line = line[:i] + "}" // routing's groupLine: Count says how many, skip the names
		}
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		outcome := 2 // failed
		switch {
		case r.Success:
			outcome = 0
		case strings.Contains(r.Error, "is inactive"):
			outcome = 1
		case r.Filtered:
			outcome = 3 // its filter kept the event from the action
		}
		n := int64(1)
		if r.Filtered && r.Count > 1 {
			n = int64(r.Count)
		}
		outcomes[outcome] += n
		m.triggers.rules.WithLabelValues(act.Namespace, trigger, ruleOutcomes[outcome]).Add(float64(n))
	}
}
