package invoker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

	"github.com/wispio/wisp/actionkey"
	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/bus"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/metrics"
	"github.com/wispio/wisp/routing"
	"github.com/wispio/wisp/store"
)

// Config configures an invoker.
type Config struct {
	// ID names the invoker; it consumes routing.InvokerTopic(ID).
	ID     string
	Pool   PoolConfig
	Limits entity.SystemLimits
	// APIHost is handed to actions as __OW_API_HOST.
	APIHost string
	// Builtins are the Go handlers of builtin actions (catalogue feed and
	// system actions), by the name in their code.
	Builtins builtin.Registry
	// Metrics records each activation record written; nil records nothing.
	Metrics *metrics.Metrics
	// GoBinaryCacheBytes bounds the executables of Go source actions kept
	// so that their next containers do not compile again (default
	// DefaultGoBinaryCacheBytes).
	GoBinaryCacheBytes int64
}

// ActivationSink stores finished activations; the invoker never waits for
// a record to be durable before answering a blocking caller.
type ActivationSink interface {
	// BeginWrite queues the records, visible to reads at once, and returns
	// a wait that blocks until they are written.
	BeginWrite(ctx context.Context, acts []*entity.Activation) (wait func(context.Context) error, err error)
	// WriteActivations returns once the records are written.
	WriteActivations(ctx context.Context, acts []*entity.Activation) error
}

// Invoker consumes invocations and runs them in its pool.
type Invoker struct {
	cfg     Config
	store   store.Store
	sink    ActivationSink
	pub     message.Publisher
	pool    *Pool
	client  *containerClient
	log     *slog.Logger
	running sync.WaitGroup // activations in progress
	active  atomic.Int64   // activations executing now

	actions *store.DocCache[entity.Action]
	keys    *actionkey.Keys // mints the keys of provide-api-key actions
	goBins  *goBinaries     // executables of compiled Go source actions (gobinary.go)
	// tracer records spans; nil records none (see SetTracerProvider).
	tracer trace.Tracer
	// local is the controller of this process, whose completions skip the
	// bus (see SetLocalController); its id is "" when there is none.
	local localController
}

// localController is a controller a completion reaches by a call.
type localController struct {
	id       string
	complete func(*entity.Activation)
}

// SetLocalController sends the completions for controller id to complete
// (routing.Controller.Complete of a controller in this process) instead of
// over the bus: the record is neither encoded nor decoded, and no bus
// goroutine stands between the run and its blocking caller. Call it
// before Consume.
func (inv *Invoker) SetLocalController(id string, complete func(*entity.Activation)) {
	inv.local = localController{id: id, complete: complete}
}

// New returns an invoker running containers made by backend, reading actions
// from st, writing activations to sink and completions to pub.
func New(cfg Config, backend Backend, st store.Store, sink ActivationSink, pub message.Publisher, log *slog.Logger) *Invoker {
	return &Invoker{
		cfg:     cfg,
		store:   st,
		sink:    sink,
		pub:     pub,
		pool:    NewPool(backend, cfg.Pool, log),
		client:  newContainerClient(),
		log:     log.With("invoker", cfg.ID),
		actions: store.NewDocCache[entity.Action](st, store.Actions, 4096),
		keys:    actionkey.New(st),
		goBins:  newGoBinaries(cfg.GoBinaryCacheBytes),
	}
}

// Pool is the invoker's container pool.
func (inv *Invoker) Pool() *Pool { return inv.pool }

// decode decodes an invocation. One that does not decode is not dropped
// silently: it becomes a whisk internal error record (stored with
// WriteActivations, so that a durable bus acks the message only once the
// record is written) and the waiting controller, if any, gets it. false
// means there is nothing to run; the message may be acked unless the
// record could not be written.
func (inv *Invoker) decode(ctx context.Context, msg *message.Message) (*routing.Invocation, bool, error) {
	m := new(routing.Invocation)
	err := json.Unmarshal(msg.Payload, m)
	if err == nil {
		return m, true, nil
	}
	act, replyTo := undecodableRecord(msg)
	if act == nil {
		// No activation id or namespace to record it under.
		inv.log.Error("drop an invocation that does not decode and names no namespace", "messageId", msg.UUID, "err", err)
		return nil, false, nil
	}
	inv.log.Error("invocation does not decode; recorded as a whisk internal error", "activationId", act.ActivationID, "namespace", act.Namespace, "err", err)
	if err := inv.record(ctx, act, replyTo); err != nil {
		inv.log.Error("store activation", "activationId", act.ActivationID, "namespace", act.Namespace, "err", err)
		return nil, false, err
	}
	return nil, false, nil
}

// Consume consumes the invoker's queue on a durable bus with workers
// activations at a time, until ctx ends. An invocation is acked only once
// its activation record is written, so the invocations of an invoker that
// dies are delivered again (to it when it comes back, or to another invoker
// through the controllers' reclaim); the activation id stays, so the record
// is still one.
func (inv *Invoker) Consume(ctx context.Context, b bus.Bus, workers int) error {
	topic := bus.InvokerTopic(inv.cfg.ID)
	// A delivered invocation is due back only after the longest an
	// activation may run.
	ackWait := time.Duration(inv.cfg.Limits.Timeout.Max)*time.Millisecond + time.Minute
	sub, err := b.Queue(ctx, topic, QueueConsumer(inv.cfg.ID), ackWait)
	if err != nil {
		return fmt.Errorf("invoker %s: %w", inv.cfg.ID, err)
	}
	for range max(workers, 1) {
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			return fmt.Errorf("invoker %s: subscribe: %w", inv.cfg.ID, err)
		}
		inv.running.Add(1)
		go func() {
			defer inv.running.Done()
			for msg := range msgs {
				inv.consume(msg)
			}
		}()
	}
	return nil
}

// Ping publishes the invoker's health on b every interval until ctx ends,
// then a last ping that it is leaving. Controllers take an invoker that
// stays silent out of their balancers.
func (inv *Invoker) Ping(ctx context.Context, b bus.Bus, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		leaving := ctx.Err() != nil
		st := inv.pool.Stats()
		payload, err := json.Marshal(routing.Health{
			Invoker: inv.cfg.ID, UserMemoryMB: inv.cfg.Pool.UserMemoryMB, UsedMB: st.UsedMB,
			Running: int(inv.active.Load()), Leaving: leaving,
		})
		if err == nil {
			err = b.Publish(bus.TopicHealth, bus.NewMessage(inv.cfg.ID+"-"+strconv.FormatInt(time.Now().UnixNano(), 36), payload))
		}
		if err != nil {
			inv.log.Warn("publish health", "err", err)
		}
		if leaving {
			return
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// QueueConsumer is the name of an invoker's consumer of its queue.
func QueueConsumer(invokerID string) string { return "invoker-" + invokerID }

func (inv *Invoker) consume(msg *message.Message) {
	ctx, span := inv.consumeSpan(msg)
	defer span.End()
	m, ok, err := inv.decode(ctx, msg)
	if !ok {
		if err != nil {
			msg.Nack() // left for a redelivery, as a run whose record failed
			return
		}
		msg.Ack()
		return
	}
	if done := inv.alreadyRan(ctx, m); done != nil {
		if m.ReplyTo != "" {
			inv.complete(m.ReplyTo, done)
		}
		inv.ackAfterOutcome(msg, m, done)
		return
	}
	act := inv.Run(ctx, m)
	if err := inv.record(ctx, act, m.ReplyTo); err != nil {
		inv.log.Error("store activation; the invocation is left for a redelivery", "activationId", act.ActivationID, "namespace", act.Namespace, "err", err)
		msg.Nack()
		return
	}
	inv.ackAfterOutcome(msg, m, act)
}

// alreadyRan returns the record of m when m is a rule's activation that
// has one already: its id derives from its fire, so a fire run again (a
// controller died before acking it) publishes the rule's invocation again,
// and this keeps the action from running twice. Other invocations are
// never looked up (their ids are new).
func (inv *Invoker) alreadyRan(ctx context.Context, m *routing.Invocation) *entity.Activation {
	if m.Cause == "" || m.CausedBy != "" || inv.store == nil {
		return nil
	}
	act, err := inv.store.GetActivation(ctx, m.Subject, m.ActivationID)
	if err != nil {
		return nil // not found (the usual case), or unreadable: run it
	}
	inv.log.Info("a rule's activation that already ran is not run again", "activationId", m.ActivationID, "cause", m.Cause)
	return act
}

// Close waits for running activations, then removes all containers.
func (inv *Invoker) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { inv.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return inv.pool.Close(ctx)
}

// Run executes one invocation to its activation record; the caller stores
// it and sends the completion (record).
func (inv *Invoker) Run(ctx context.Context, m *routing.Invocation) *entity.Activation {
	ctx, span := inv.runSpan(ctx, m)
	inv.active.Add(1)
	act := inv.execute(ctx, m)
	inv.active.Add(-1)
	traced(ctx, span, act)
	return act
}

// record writes act and sends its completion to controller (when set): the
// record is queued first, so that a caller reading it right after the
// answer finds it, and the completion goes out before the write is durable.
func (inv *Invoker) record(ctx context.Context, act *entity.Activation, controller string) error {
	inv.cfg.Metrics.ObserveActivation(act)
	wait, err := inv.sink.BeginWrite(ctx, []*entity.Activation{act})
	if controller != "" {
		inv.complete(controller, act)
	}
	if err == nil {
		err = wait(ctx)
	}
	return err
}

func (inv *Invoker) complete(controller string, act *entity.Activation) {
	if controller == inv.local.id && inv.local.complete != nil {
		inv.local.complete(act)
		return
	}
	payload, err := json.Marshal(routing.Completion{Activation: act})
	if err == nil {
		err = inv.pub.Publish(bus.CompletionsTopic(controller), bus.NewMessage(act.ActivationID, payload))
	}
	if err != nil {
		inv.log.Error("publish completion", "activationId", act.ActivationID, "err", err)
	}
}

// execute runs the action and shapes the activation record.
func (inv *Invoker) execute(ctx context.Context, m *routing.Invocation) *entity.Activation {
	start := time.Now()
	act := &entity.Activation{
		ActivationID: m.ActivationID,
		Namespace:    m.Subject,
		Name:         m.Action.Path(),
		Subject:      m.Subject,
		Cause:        m.Cause,
		Logs:         []string{},
	}
	action, rev, err := inv.loadAction(ctx, m.Action, m.Revision)
	if err != nil {
		inv.log.Error("load action", "activationId", m.ActivationID, "action", m.Action.String(), "err", err)
		return finish(act, start, entity.ErrorResponse(entity.StatusWhiskError, "The requested resource does not exist."), nil)
	}
	act.Version = action.Version
	act.Publish = false
	annotations := entity.Params{}.
		Set("path", m.Action.Namespace+"/"+m.Action.Path()).
		Set("kind", action.Exec.Kind).
		Set("limits", action.Limits)
	if m.Accepted > 0 {
		annotations = annotations.Set("waitTime", start.UnixMilli()-m.Accepted)
	}
	if m.CausedBy != "" {
		annotations = annotations.Set("causedBy", m.CausedBy)
	}
	if m.Replayed {
		annotations = annotations.Set("replayed", true)
	}
	var r runResult
	if action.Exec.Kind == builtin.Kind {
		r = inv.runBuiltin(ctx, m, action, start)
	} else {
		r = inv.runInContainer(ctx, m, action, rev, start)
	}
	if r.initTime > 0 {
		annotations = annotations.Set("initTime", r.initTime.Milliseconds())
	}
	if r.timedOut {
		annotations = annotations.Set("timeout", true)
	} else {
		annotations = annotations.Set("timeout", false)
	}
	act.Annotations = annotations
	return finish(act, start, r.response, r.logs)
}

func finish(act *entity.Activation, start time.Time, resp entity.Response, logs []string) *entity.Activation {
	end := time.Now()
	act.Start = start.UnixMilli()
	act.End = end.UnixMilli()
	act.Duration = end.Sub(start).Milliseconds()
	act.Response = resp
	act.StatusCode = resp.StatusCode
	if logs != nil {
		act.Logs = logs
	}
	if act.Annotations == nil {
		act.Annotations = entity.Params{}
	}
	return act
}

type runResult struct {
	response entity.Response
	logs     []string
	initTime time.Duration
	timedOut bool
}

// runInContainer acquires a container, initialises it when cold, runs the
// activation with the action's deadline and collects its logs.
func (inv *Invoker) runInContainer(ctx context.Context, m *routing.Invocation, action *entity.Action, rev string, start time.Time) runResult {
	timeout := action.Limits.TimeoutDuration()
	deadline := start.Add(timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	key := m.Action.Namespace + "/" + m.Action.Path() + "@" + rev
	spec := Spec{Kind: action.Exec.Kind, Image: action.Exec.Image, MemoryMB: action.Limits.Memory, Action: m.Action.String()}
	if v, ok := action.Annotations.Get("network"); ok && string(v) == "false" {
		spec.NoNetwork = true
	}
	slot, cold, err := inv.pool.Acquire(ctx, key, spec, action.Limits.Concurrency)
	if err != nil {
		if ctx.Err() != nil {
			return runResult{response: timedOut(timeout, false), timedOut: true}
		}
		var imgErr *ImageError
		if errors.As(err, &imgErr) {
			return runResult{response: entity.ErrorResponse(entity.StatusDeveloperError,
				fmt.Sprintf("Failed to start the action: its container image %q does not exist on this invoker (Wisp pulls no images; build or load it there).", imgErr.Image))}
		}
		inv.log.Error("acquire container", "activationId", m.ActivationID, "action", spec.Action, "err", err)
		return runResult{response: entity.ErrorResponse(entity.StatusWhiskError, "Failed to start a container for the action.")}
	}
	inv.cfg.Metrics.ContainerStart(spec.Kind, slot.Start())
	c := slot.Container()
	logs := c.Logs()
	logLimit := action.Limits.Logs << 20
	limit := inv.resultLimit()
	secret := containerSecret(c)
	var res runResult
	if cold {
		t0 := time.Now()
		logs.Start(logLimit)
		goKey := goBinaryKey(m.Action.Namespace, action, inv.cfg.APIHost)
		body, hit := inv.goInitBody(action, goKey)
		rep, err := inv.client.post(ctx, c.URL()+"/init", secret, body, limit)
		res.initTime = time.Since(t0)
		if err != nil || rep.status != 200 {
			inv.pool.Release(slot, false)
			res.logs = collectBriefly(logs)
			if ctx.Err() != nil {
				res.response, res.timedOut = timedOut(timeout, true), true
			} else if err != nil {
				res.response = entity.ErrorResponse(entity.StatusDeveloperError, "The action failed to initialize: "+err.Error())
			} else {
				res.response = initFailure(rep.status, rep.body)
			}
			return res
		}
		if goKey != "" && !hit {
			if err := inv.keepGoBinary(ctx, c, goKey); err != nil {
				inv.log.Warn("read back a compiled Go binary", "activationId", m.ActivationID, "action", spec.Action, "err", err)
			}
		}
		inv.pool.Initialized(slot)
	}
	apiKey, err := inv.activationKey(ctx, m, action, deadline)
	if err != nil {
		inv.pool.Release(slot, true)
		inv.log.Error("mint the activation key", "activationId", m.ActivationID, "namespace", m.Subject, "err", err)
		res.response = entity.ErrorResponse(entity.StatusWhiskError, "Failed to provide the action with an API key.")
		return res
	}
	logs.Start(logLimit)
	rep, err := inv.client.post(ctx, c.URL()+"/run", secret, runBody(m, action, deadline, apiKey), limit)
	switch {
	case ctx.Err() != nil:
		res.response, res.timedOut = timedOut(timeout, false), true
		res.logs = collectBriefly(logs)
		inv.pool.Release(slot, false)
	case err != nil:
		res.response = entity.ErrorResponse(entity.StatusDeveloperError, "The action did not produce a valid response and exited unexpectedly.")
		res.logs = collectBriefly(logs)
		inv.pool.Release(slot, false)
	default:
		res.response = runResponse(rep, limit)
		var complete bool
		res.logs, complete = logs.Collect(ctx)
		// As OpenWhisk does, a container that produced a developer error
		// (a crash, an OOM kill, a result that is not an object) is not
		// trusted with another activation; nor is one whose proxy could not
		// clean up after the action (its pids limit was hit).
		inv.pool.Release(slot, complete && !rep.recycle && res.response.StatusCode < entity.StatusDeveloperError)
	}
	return res
}

// resultLimit is the most a container's answer may hold, in bytes.
func (inv *Invoker) resultLimit() int64 {
	if inv.cfg.Limits.ResultSize > 0 {
		return int64(inv.cfg.Limits.ResultSize)
	}
	return defaultResultLimit
}

// defaultResultLimit is OpenWhisk's result limit, used when the system
// limits name none.
const defaultResultLimit = 1 << 20

// runResponse is the activation response of a /run answer; one over limit
// is a developer error with OpenWhisk's message.
func runResponse(rep containerReply, limit int64) entity.Response {
	if rep.size > 0 {
		r := entity.ErrorResponse(entity.StatusDeveloperError, fmt.Sprintf("The action produced a response that exceeded the allowed length: %d > %d bytes.", rep.size, limit))
		n := int(rep.size)
		r.Size = &n
		return r
	}
	return entity.ResponseFromRun(rep.status, rep.body, int(limit))
}

// runBuiltin calls a builtin action's Go handler, with the action's
// timeout; no container is involved.
func (inv *Invoker) runBuiltin(ctx context.Context, m *routing.Invocation, action *entity.Action, start time.Time) runResult {
	fn := inv.cfg.Builtins[action.Exec.Code]
	if fn == nil {
		inv.log.Error("no handler for a builtin action", "action", m.Action.String(), "handler", action.Exec.Code)
		return runResult{response: entity.ErrorResponse(entity.StatusWhiskError, "The action's builtin handler is not available on this invoker.")}
	}
	timeout := action.Limits.TimeoutDuration()
	ctx, cancel := context.WithDeadline(ctx, start.Add(timeout))
	defer cancel()
	params := m.Params
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	result, err := fn(ctx, builtin.Call{Namespace: m.Subject, Action: m.Action.String(), ActivationID: m.ActivationID, Params: params})
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return runResult{response: timedOut(timeout, false), timedOut: true}
	case err != nil:
		msg, _ := json.Marshal(map[string]string{"error": err.Error()})
		return runResult{response: entity.NewResponse(entity.StatusApplicationError, msg)}
	}
	return runResult{response: entity.ResponseFromRun(http.StatusOK, result, int(inv.resultLimit()))}
}

// collectBriefly gathers what a failed container printed, waiting only a
// moment for the sentinel it may never print.
func collectBriefly(logs *LogCollector) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	lines, _ := logs.Collect(ctx)
	return lines
}

func timedOut(timeout time.Duration, init bool) entity.Response {
	msg := fmt.Sprintf("The action exceeded its time limits of %d milliseconds.", timeout.Milliseconds())
	if init {
		msg = fmt.Sprintf("The action exceeded its time limits of %d milliseconds during initialization.", timeout.Milliseconds())
	}
	return entity.ErrorResponse(entity.StatusDeveloperError, msg)
}

func initFailure(status int, body []byte) entity.Response {
	r := entity.ResponseFromRun(status, body, 0)
	if r.StatusCode == entity.StatusSuccess || r.StatusCode == entity.StatusApplicationError {
		r = entity.ErrorResponse(entity.StatusDeveloperError, "The action failed to initialize: "+string(body))
	}
	r.StatusCode = entity.StatusDeveloperError
	r.Status = "action developer error"
	r.Success = false
	return r
}

func initBody(a *entity.Action, apiHost string) []byte {
	env := map[string]json.RawMessage{}
	if apiHost != "" {
		env["__OW_API_HOST"], _ = json.Marshal(apiHost)
	}
	for _, p := range a.Parameters {
		if p.Init {
			env[p.Key] = p.Value
		}
	}
	main := a.Exec.Main
	if main == "" {
		main = "main"
	}
	b, _ := json.Marshal(map[string]any{"value": map[string]any{
		"name": a.Name, "main": main, "code": a.Exec.Code, "binary": a.Exec.Binary, "env": env,
	}})
	return b
}

// activationKey mints the key of an action annotated provide-api-key: it
// acts as the activation's subject until the deadline plus
// actionkey.Grace, or until the caller's own activation key expires when
// the caller was an action. Other actions get "".
func (inv *Invoker) activationKey(ctx context.Context, m *routing.Invocation, a *entity.Action, deadline time.Time) (string, error) {
	if !a.Annotations.IsTrue("provide-api-key") {
		return "", nil
	}
	expires := deadline.Add(actionkey.Grace)
	if bound := time.UnixMilli(m.KeyExpires); m.KeyExpires != 0 && bound.Before(expires) {
		expires = bound
	}
	key, err := inv.keys.Mint(ctx, m.Subject, m.ActivationID, expires)
	if err != nil {
		return "", fmt.Errorf("activation key for %s: %w", m.ActivationID, err)
	}
	return key, nil
}

func runBody(m *routing.Invocation, a *entity.Action, deadline time.Time, apiKey string) []byte {
	params := m.Params
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	body := struct {
		Value         json.RawMessage `json:"value"`
		Namespace     string          `json:"namespace"`
		ActionName    string          `json:"action_name"`
		ActivationID  string          `json:"activation_id"`
		TransactionID string          `json:"transaction_id"`
		Deadline      string          `json:"deadline"`
		ActionVersion string          `json:"action_version"`
		APIKey        string          `json:"api_key,omitempty"`
	}{params, m.Subject, m.Action.String(), m.ActivationID, m.TransactionID, strconv.FormatInt(deadline.UnixMilli(), 10), a.Version, apiKey}
	b, _ := json.Marshal(body)
	return b
}

// loadAction returns the action at rev from the cache, or the current one
// from the store when the cache holds another revision: an action updated
// since the invocation was accepted runs at its newest revision.
func (inv *Invoker) loadAction(ctx context.Context, f entity.FQN, rev string) (*entity.Action, string, error) {
	a, gotRev, err := inv.actions.At(ctx, f.Namespace, f.Path(), rev)
	if err != nil {
		return nil, "", fmt.Errorf("load action %s: %w", f, err)
	}
	return a, gotRev, nil
}
