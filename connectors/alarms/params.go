package alarms

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezones work without the system's zoneinfo

	"github.com/robfig/cron/v3"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/feeds"
)

// The feeds of the provider.
const (
	FeedAlarm    = "alarm"
	FeedOnce     = "once"
	FeedInterval = "interval"
)

// cronParser takes 5 fields (minute first) or 6 (seconds first), and
// descriptors such as @hourly or @every 90s.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// spec is a feed's parsed parameters.
type spec struct {
	feed     string
	schedule cron.Schedule // alarm
	loc      *time.Location
	minutes  int       // interval
	date     time.Time // once
	// deleteAfterFire deletes the trigger after a once alarm fired.
	deleteAfterFire bool
	start, stop     time.Time // zero: none
	maxTriggers     int       // 0: unlimited
	payload         json.RawMessage
}

// feedParams declares the parameters of feed; nil for a feed the
// provider does not have.
func feedParams(feed string) feeds.Params {
	timezone := feeds.Param{Name: "timezone", Type: feeds.TypeString, Default: "UTC", Doc: "The IANA time zone of the schedule and of dates without one, like Europe/Paris."}
	payload := feeds.Param{Name: "trigger_payload", Type: feeds.TypeObject, Doc: "The payload of every fire: a JSON object, or a string passed as {\"payload\": string}."}
	start := feeds.Param{Name: "startDate", Type: feeds.TypeDate, Doc: "When the first fire may happen: RFC 3339 or Unix milliseconds."}
	stop := feeds.Param{Name: "stopDate", Type: feeds.TypeDate, Doc: "When the feed ends: RFC 3339 or Unix milliseconds."}
	switch feed {
	case FeedAlarm:
		return feeds.Params{
			{Name: "cron", Type: feeds.TypeString, Required: true, Doc: "A cron pattern such as '*/5 * * * *' (5 fields, or 6 with seconds first), or @hourly, @every 90s."},
			timezone, payload, start, stop,
			{Name: "maxTriggers", Type: feeds.TypeInteger, Default: -1, Doc: "How many fires before the feed ends; -1 for no limit (not with stopDate)."},
		}
	case FeedOnce:
		return feeds.Params{
			{Name: "date", Type: feeds.TypeDate, Required: true, Doc: "When to fire, like 2030-01-02T15:04:05Z, or Unix milliseconds."},
			timezone, payload,
			{Name: "deleteAfterFire", Type: feeds.TypeBoolean, Default: false, Doc: "Whether to delete the trigger once it fired."},
		}
	case FeedInterval:
		return feeds.Params{
			{Name: "minutes", Type: feeds.TypeInteger, Required: true, Doc: "The number of minutes between fires."},
			timezone, payload, start, stop,
		}
	}
	return nil
}

// Params declares the parameters of a feed (feeds.Declarer).
func (p *Provider) Params(feed string) feeds.Params { return feedParams(feed) }

// checkDeclared runs the declared checks of feed, in the alarms package's
// words ("cron: missing; a cron pattern ...").
func checkDeclared(feed string, params map[string]json.RawMessage) error {
	decl := feedParams(feed)
	err := decl.Validate(params)
	var pe *feeds.ParamError
	if !errors.As(err, &pe) {
		return err
	}
	p, _ := decl.Lookup(pe.Name)
	switch {
	case pe.Missing:
		return builtin.Errorf("%s: missing; %s", pe.Name, p.Hint())
	case p.Type == feeds.TypeBoolean:
		return builtin.Errorf("%s: %s is not valid; true or false", pe.Name, params[pe.Name])
	}
	return err
}

// parse reads and checks the parameters of feed, without looking at the
// clock (see checkTimes): the declared checks, then each parameter's own.
func parse(feed string, params map[string]json.RawMessage) (*spec, error) {
	s := &spec{feed: feed, loc: time.UTC}
	if err := checkDeclared(feed, params); err != nil {
		return nil, err
	}
	var err error
	if s.payload, err = payload(params["trigger_payload"]); err != nil {
		return nil, err
	}
	if raw, ok := params["timezone"]; ok {
		name, err := str("timezone", raw)
		if err != nil {
			return nil, err
		}
		if s.loc, err = time.LoadLocation(name); err != nil || name == "" {
			return nil, builtin.Errorf("timezone: %q is not a known IANA time zone (like Europe/Paris or UTC)", name)
		}
	}
	switch feed {
	case FeedAlarm:
		err = s.parseAlarm(params)
	case FeedOnce:
		err = s.parseOnce(params)
	case FeedInterval:
		err = s.parseInterval(params)
	default:
		err = builtin.Errorf("feed: alarms has no feed %q (alarm, once or interval)", feed)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *spec) parseAlarm(params map[string]json.RawMessage) error {
	raw := params["cron"] // required: see checkDeclared
	pattern, err := str("cron", raw)
	if err != nil {
		return err
	}
	if strings.Contains(pattern, "TZ=") {
		return builtin.Errorf("cron: pattern %q: give the time zone in the timezone parameter", pattern)
	}
	if s.schedule, err = cronParser.Parse(pattern); err != nil {
		return builtin.Errorf("cron: pattern %q is not valid: %v", pattern, err)
	}
	if err := s.parseRange(params); err != nil {
		return err
	}
	if raw, ok := params["maxTriggers"]; ok {
		n, err := integer("maxTriggers", raw)
		if err != nil {
			return err
		}
		switch {
		case n < -1:
			return builtin.Errorf("maxTriggers: %d is not valid; a positive count, or -1 for no limit", n)
		case n > 0:
			s.maxTriggers = n
		}
		if s.maxTriggers > 0 && !s.stop.IsZero() {
			return builtin.Errorf("maxTriggers: not allowed together with stopDate")
		}
	}
	return nil
}

func (s *spec) parseOnce(params map[string]json.RawMessage) error {
	raw := params["date"] // required: see checkDeclared
	var err error
	if s.date, err = s.parseDate("date", raw); err != nil {
		return err
	}
	if raw, ok := params["deleteAfterFire"]; ok {
		switch v := strings.ToLower(strings.Trim(strings.TrimSpace(string(raw)), `"`)); v {
		case "true":
			s.deleteAfterFire = true
		case "false", "":
		default:
			return builtin.Errorf("deleteAfterFire: %s is not valid; true or false", raw)
		}
	}
	return nil
}

func (s *spec) parseInterval(params map[string]json.RawMessage) error {
	raw := params["minutes"] // required: see checkDeclared
	n, err := integer("minutes", raw)
	if err != nil {
		return err
	}
	if n <= 0 {
		return builtin.Errorf("minutes: %d is not valid; an integer greater than zero", n)
	}
	s.minutes = n
	if _, ok := params["maxTriggers"]; ok {
		return builtin.Errorf("maxTriggers: not supported by the interval feed; use stopDate")
	}
	return s.parseRange(params)
}

// parseRange reads startDate and stopDate.
func (s *spec) parseRange(params map[string]json.RawMessage) error {
	var err error
	if raw, ok := params["startDate"]; ok {
		if s.start, err = s.parseDate("startDate", raw); err != nil {
			return err
		}
	}
	if raw, ok := params["stopDate"]; ok {
		if s.stop, err = s.parseDate("stopDate", raw); err != nil {
			return err
		}
	}
	if !s.start.IsZero() && !s.stop.IsZero() && !s.stop.After(s.start) {
		return builtin.Errorf("stopDate: %s must be after startDate %s", s.stop.Format(time.RFC3339), s.start.Format(time.RFC3339))
	}
	return nil
}

// checkTimes refuses what cannot fire any more at now: a once date or a
// stopDate in the past, an alarm whose first fire is after its stopDate.
// A startDate in the past means "from now on".
func (s *spec) checkTimes(now time.Time, created time.Time) error {
	if s.feed == FeedOnce && !s.date.After(now) {
		return builtin.Errorf("date: %s must be in the future", s.date.Format(time.RFC3339))
	}
	if !s.stop.IsZero() {
		if !s.stop.After(now) {
			return builtin.Errorf("stopDate: %s must be in the future", s.stop.Format(time.RFC3339))
		}
		if first := s.next(s.from(now), created); first.IsZero() || first.After(s.stop) {
			return builtin.Errorf("stopDate: the first scheduled fire is after the stop date %s", s.stop.Format(time.RFC3339))
		}
	}
	return nil
}

// from is the instant after which the schedule's next fire counts: now,
// or just before startDate when that is later.
func (s *spec) from(now time.Time) time.Time {
	if !s.start.IsZero() && s.start.After(now) {
		return s.start.Add(-time.Nanosecond)
	}
	return now
}

// next returns the first fire strictly after t, or zero when there is
// none. created anchors an interval without startDate.
func (s *spec) next(t time.Time, created time.Time) time.Time {
	switch s.feed {
	case FeedAlarm:
		return s.schedule.Next(t.In(s.loc))
	case FeedOnce:
		if s.date.After(t) {
			return s.date
		}
		return time.Time{}
	default: // interval
		period := time.Duration(s.minutes) * time.Minute
		first := created.Add(period)
		if !s.start.IsZero() {
			first = s.start
		}
		if first.After(t) {
			return first
		}
		k := t.Sub(first)/period + 1
		return first.Add(k * period)
	}
}

// parseDate reads an RFC 3339 date (a date and time without zone is in
// the timezone parameter's zone) or Unix milliseconds.
func (s *spec) parseDate(field string, raw json.RawMessage) (time.Time, error) {
	var ms int64
	if json.Unmarshal(raw, &ms) == nil {
		return time.UnixMilli(ms), nil
	}
	v, err := str(field, raw)
	if err != nil {
		return time.Time{}, err
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(n), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999Z0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, builtin.Errorf("%s: %q is not a valid date; use RFC 3339 (2030-01-02T15:04:05Z) or Unix milliseconds", field, v)
}

// payload reads trigger_payload: an object, or a string that becomes
// {"payload": string} as in OpenWhisk's alarms package.
func payload(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{}`), nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		return raw, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if json.Unmarshal([]byte(s), &obj) == nil && obj != nil {
			return json.RawMessage(s), nil // a JSON object passed as a string
		}
		return json.Marshal(map[string]string{"payload": s})
	}
	return nil, builtin.Errorf("trigger_payload: must be a JSON object or a string")
}

func str(field string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", builtin.Errorf("%s: must be a string, not %s", field, raw)
	}
	return strings.TrimSpace(s), nil
}

// integer reads a JSON number or a string holding an integer.
func integer(field string, raw json.RawMessage) (int, error) {
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil {
		s, serr := str(field, raw)
		if serr != nil {
			return 0, builtin.Errorf("%s: must be an integer, not %s", field, raw)
		}
		if n, err = strconv.ParseFloat(s, 64); err != nil {
			return 0, builtin.Errorf("%s: must be an integer, not %q", field, s)
		}
	}
	if n != float64(int(n)) {
		return 0, builtin.Errorf("%s: must be an integer, not %v", field, n)
	}
	return int(n), nil
}

// cursor is what the provider saves with each fire.
type cursor struct {
	// Last is the scheduled time of the last fire, Unix milliseconds.
	Last int64 `json:"last"`
	// Fired counts the fires so far (maxTriggers, once).
	Fired int `json:"fired"`
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("alarm cursor %q: %w", s, err)
	}
	return c, nil
}
