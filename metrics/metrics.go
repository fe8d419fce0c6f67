package metrics

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wispio/wisp/entity"
)

// OpenWhisk's label names (openwhisk user-events).
const (
	labelNamespace = "namespace" // the action's namespace
	labelInitiator = "initiator" // the namespace on whose behalf it ran
	labelAction    = "action"    // [package/]name
	labelKind      = "kind"
	labelMemory    = "memory" // MB
	labelStatus    = "status"
)

// statusLabel maps an activation's status code to OpenWhisk's status label.
var statusLabel = [...]string{"success", "application_error", "developer_error", "internal_error"}

// Metrics is a process's registry and the metrics recorded in it. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	activations *prometheus.CounterVec
	coldStarts  *prometheus.CounterVec
	status      *prometheus.CounterVec
	waitTime    *prometheus.HistogramVec
	initTime    *prometheus.HistogramVec
	duration    *prometheus.HistogramVec
	memory      *prometheus.GaugeVec
	starts      *prometheus.CounterVec
	triggers    triggerMetrics
	throttle    throttleMetrics
	busPublish  *prometheus.HistogramVec
	feeds       feedMetrics
	busAck      busAckMetrics
	store       *prometheus.HistogramVec
	recent      *Recent
	actionCap   *labelCap // the actions with series of their own
	triggerCap  *labelCap // the triggers with series of their own
}

// New returns Metrics over a registry of its own, with the Go runtime's
// and the process's collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	who := []string{labelNamespace, labelInitiator, labelAction}
	m := &Metrics{
		reg: reg, actionCap: newLabelCap(maxEntitySeries), triggerCap: newLabelCap(maxEntitySeries),
		activations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openwhisk_action_activations_total", Help: "Activation Count",
		}, append(who, labelKind, labelMemory)),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openwhisk_action_coldStarts_total", Help: "Cold start counts",
		}, who),
		status: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "openwhisk_action_status", Help: "Activation failure status type",
		}, append(who, labelStatus)),
		waitTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "openwhisk_action_waitTime_seconds", Help: "Internal system hold time",
		}, who),
		initTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "openwhisk_action_initTime_seconds", Help: "Time it took to initialize an action, e.g. docker init",
		}, who),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "openwhisk_action_duration_seconds", Help: "Actual time the action code was running",
		}, who),
		memory: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "openwhisk_action_memory", Help: "Memory consumption of the action containers",
		}, who),
		starts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wisp_action_starts_total", Help: "Activations given a container, by kind and how the container was had: cold (created), stem (a prewarmed one taken), warm (reused, running) or resume (reused, unpaused)",
		}, []string{labelKind, "start"}),
	}
	reg.MustRegister(m.activations, m.coldStarts, m.status, m.waitTime, m.initTime, m.duration, m.memory, m.starts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.triggers = newTriggerMetrics(reg)
	m.throttle = newThrottleMetrics(reg)
	m.busPublish = newBusPublish(reg)
	m.feeds = newFeedMetrics(reg)
	m.busAck = newBusAck(reg)
	m.store = newStoreLatency(reg)
	m.recent = newRecent(time.Now)
	return m
}

// Registry is the registry, for parts that add collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// recordFields are the annotations of an activation record the metrics read.
type recordFields struct {
	path, kind     string
	memoryMB       int
	waitMs, initMs int64
	cold, hasWait  bool
}

// fields reads the annotations the invoker sets on a record.
func fields(act *entity.Activation) recordFields {
	var f recordFields
	f.path, _ = act.Annotations.GetString("path")
	f.kind, _ = act.Annotations.GetString("kind")
	if raw, ok := act.Annotations.Get("limits"); ok {
		var l struct {
			Memory int `json:"memory"`
		}
		if json.Unmarshal(raw, &l) == nil {
			f.memoryMB = l.Memory
		}
	}
	if raw, ok := act.Annotations.Get("waitTime"); ok {
		f.hasWait = json.Unmarshal(raw, &f.waitMs) == nil
	}
	if raw, ok := act.Annotations.Get("initTime"); ok {
		f.cold = json.Unmarshal(raw, &f.initMs) == nil
	}
	return f
}

// ObserveActivation records one finished action activation, as OpenWhisk's
// user-events do: its count, cold start, status, wait, init and run times
// and memory, labelled by the action's namespace and name and the
// initiator's namespace.
func (m *Metrics) ObserveActivation(act *entity.Activation) {
	if m == nil || act == nil {
		return
	}
	f := fields(act)
	ns, action := act.Namespace, act.Name
	if f.path != "" {
		if i := strings.IndexByte(f.path, '/'); i > 0 {
			ns = f.path[:i]
		}
	}
	if !m.actionCap.admit(entityKey{ns, act.Namespace, action}) {
		action = otherLabel
	}
	m.activations.WithLabelValues(ns, act.Namespace, action, f.kind, strconv.Itoa(f.memoryMB)).Inc()
	code := len(statusLabel) // unknown
	status := "unknown"
	if c := act.Response.StatusCode; c >= 0 && c < len(statusLabel) {
		code, status = c, statusLabel[c]
	}
	m.status.WithLabelValues(ns, act.Namespace, action, status).Inc()
	recentName := act.Name // the recent view keeps its own bounds
	if ns != act.Namespace {
		recentName = "/" + f.path // another namespace's action, as the caller named it
	}
	m.recent.activation(act.Namespace, recentName, code, f.cold, float64(act.Duration), float64(f.waitMs), f.hasWait)
	if f.hasWait {
		m.waitTime.WithLabelValues(ns, act.Namespace, action).Observe(float64(f.waitMs) / 1000)
	}
	if f.cold {
		m.coldStarts.WithLabelValues(ns, act.Namespace, action).Inc()
		m.initTime.WithLabelValues(ns, act.Namespace, action).Observe(float64(f.initMs) / 1000)
	}
	m.duration.WithLabelValues(ns, act.Namespace, action).Observe(float64(act.Duration) / 1000)
	if f.memoryMB > 0 {
		m.memory.WithLabelValues(ns, act.Namespace, action).Set(float64(f.memoryMB))
	}
}

// NamespaceView is namespace ns's activity since since, at most the last
// hour, as this process observed it (GET /api/v1/namespaces/{ns}/metrics).
func (m *Metrics) NamespaceView(ns string, since time.Time) NamespaceView {
	if m == nil {
		return newRecent(time.Now).View(ns, since)
	}
	return m.recent.View(ns, since)
}

// ContainerStart counts an activation given a container of kind, had as
// start says (invoker.StartCold, StartStem, StartWarm, StartResume).
func (m *Metrics) ContainerStart(kind, start string) {
	if m == nil {
		return
	}
	m.starts.WithLabelValues(kind, start).Inc()
}
