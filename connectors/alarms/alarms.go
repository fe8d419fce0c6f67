package alarms

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/feeds"
)

// Config configures the provider.
type Config struct {
	// Clock is the time source; nil means the system clock.
	Clock Clock
	// RetryDelay is the wait before delivering a fire again after the
	// Sink refused it (the store failing); 0 means one second.
	RetryDelay time.Duration
	// CatchUp is how far back a feed that starts again (after a restart,
	// or on another feeds node taking it over) fires the fires it missed
	// since its last one; older ones are skipped. 0 means a minute.
	CatchUp time.Duration
}

// DefaultCatchUp is Config.CatchUp's default.
const DefaultCatchUp = time.Minute

// Provider is the alarms feed provider.
type Provider struct {
	clock   Clock
	retry   time.Duration
	catchUp time.Duration
	log     *slog.Logger
}

var _ feeds.Provider = (*Provider)(nil)

// New returns the alarms provider.
func New(cfg Config, log *slog.Logger) *Provider {
	p := &Provider{clock: cfg.Clock, retry: cfg.RetryDelay, catchUp: cfg.CatchUp, log: log}
	if p.catchUp <= 0 {
		p.catchUp = DefaultCatchUp
	}
	if p.clock == nil {
		p.clock = SystemClock{}
	}
	if p.retry <= 0 {
		p.retry = time.Second
	}
	return p
}

// Name is the catalogue package, /whisk.system/alarms.
func (p *Provider) Name() string { return "alarms" }

// Feeds lists the feed actions.
func (p *Provider) Feeds() []string { return []string{FeedAlarm, FeedOnce, FeedInterval} }

// Description describes the catalogue package.
func (p *Provider) Description() string { return "Alarms and periodic utility" }

// FeedDescription describes a feed action.
func (p *Provider) FeedDescription(feed string) string {
	switch feed {
	case FeedAlarm:
		return "Fire trigger when alarm occurs (parameters: cron, timezone, trigger_payload, startDate, stopDate, maxTriggers)"
	case FeedOnce:
		return "Fire trigger once when alarm occurs (parameters: date, trigger_payload, deleteAfterFire)"
	case FeedInterval:
		return "Fire trigger at specified interval (parameters: minutes, trigger_payload, startDate, stopDate)"
	}
	return ""
}

// Validate checks the parameters of a CREATE or UPDATE.
func (p *Provider) Validate(_ context.Context, feed string, params map[string]json.RawMessage) error {
	s, err := parse(feed, params)
	if err != nil {
		return err
	}
	now := p.clock.Now()
	return s.checkTimes(now, now)
}

// Start runs reg's schedule from its cursor.
func (p *Provider) Start(ctx context.Context, reg feeds.Registration, sink feeds.Sink) (feeds.Feed, error) {
	s, err := parse(reg.Feed, reg.Params)
	if err != nil {
		return nil, err
	}
	c, err := parseCursor(reg.Cursor)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &alarm{p: p, spec: s, sink: sink, cursor: c, created: time.UnixMilli(reg.Created), trigger: reg.Trigger, cancel: cancel, done: make(chan struct{})}
	go a.run(ctx)
	return a, nil
}

// alarm is one running schedule.
type alarm struct {
	p       *Provider
	spec    *spec
	sink    feeds.Sink
	cursor  cursor // owned by run
	created time.Time
	trigger string
	cancel  context.CancelFunc
	done    chan struct{}
}

// Stop ends the schedule and waits for it.
func (a *alarm) Stop(ctx context.Context) error {
	a.cancel()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *alarm) run(ctx context.Context) {
	defer close(a.done)
	s := a.spec
	now := a.p.clock.Now()
	if s.feed == FeedOnce {
		if a.cursor.Fired > 0 {
			a.sink.Done(s.deleteAfterFire) // fired before a restart
			return
		}
		if !s.date.After(now) {
			// Missed while Wisp was down: fire now.
			if a.deliver(ctx, s.date) {
				a.sink.Done(s.deleteAfterFire)
			}
			return
		}
	}
	if s.maxTriggers > 0 && a.cursor.Fired >= s.maxTriggers {
		a.sink.Done(false)
		return
	}
	after := a.resumeAfter(now)
	for {
		next := s.next(after, a.created)
		if next.IsZero() || (!s.stop.IsZero() && next.After(s.stop)) {
			a.sink.Done(false)
			return
		}
		if !a.sleepUntil(ctx, next) || !a.deliver(ctx, next) {
			return
		}
		if s.feed == FeedOnce {
			a.sink.Done(s.deleteAfterFire)
			return
		}
		if s.maxTriggers > 0 && a.cursor.Fired >= s.maxTriggers {
			a.sink.Done(false)
			return
		}
		after = next
		if now := a.p.clock.Now(); now.Sub(after) > a.p.catchUp {
			after = now // fires later than the catch-up window are skipped
		}
	}
}

// resumeAfter is the time after which the schedule's next fire is due at
// a start: the last fire when it lies within the catch-up window (the
// fires missed since then fire at once, one after the other), else now
// (older missed fires are skipped).
func (a *alarm) resumeAfter(now time.Time) time.Time {
	after := a.spec.from(now)
	if a.cursor.Last == 0 || after.After(now) {
		return after
	}
	if last := time.UnixMilli(a.cursor.Last); last.Before(now) && now.Sub(last) <= a.p.catchUp {
		return last
	}
	return after
}

// sleepUntil waits for t on the clock; false when stopped.
func (a *alarm) sleepUntil(ctx context.Context, t time.Time) bool {
	for {
		d := t.Sub(a.p.clock.Now())
		if d <= 0 {
			return true
		}
		timer := a.p.clock.NewTimer(d)
		select {
		case <-timer.C():
		case <-ctx.Done():
			timer.Stop()
			return false
		}
	}
}

// attributes are the CloudEvents attributes of the fire scheduled at t:
// type wisp.alarms.FEED, the trigger (the alarm's name) as subject, the
// scheduled time as time, and as id the trigger and that time, so that a
// tick delivered again after a restart fires once.
func (a *alarm) attributes(t time.Time) *entity.EventAttributes {
	when := t.UTC().Format(time.RFC3339Nano)
	return &entity.EventAttributes{
		ID: a.trigger + "@" + when, Source: "/whisk.system/alarms", Type: "wisp.alarms." + a.spec.feed,
		Subject: a.trigger, Time: when,
	}
}

// deliver hands the fire at t to the sink, retrying while it refuses;
// false when stopped.
func (a *alarm) deliver(ctx context.Context, t time.Time) bool {
	c := cursor{Last: t.UnixMilli(), Fired: a.cursor.Fired + 1}
	cur, _ := json.Marshal(c)
	failed := false
	for {
		err := a.sink.Deliver(ctx, feeds.Event{Payload: a.spec.payload, Cursor: string(cur), Attributes: a.attributes(t)})
		if err == nil {
			break
		}
		failed = true
		a.p.log.Warn("alarm fire not delivered; retrying", "trigger", a.trigger, "err", err)
		a.sink.Report(err)
		if !a.sleepUntil(ctx, a.p.clock.Now().Add(a.p.retry)) {
			return false
		}
	}
	if failed {
		a.sink.Report(nil)
	}
	a.cursor = c
	return true
}
