// Package alarms is the alarm clock feed provider (/whisk.system/alarms):
// feeds alarm (a cron schedule, 5 fields or 6 with seconds, in a
// timezone), once (a date) and interval (every N minutes). Each fire
// hands the trigger_payload to the feed manager's Sink, with the fire's
// time and count as cursor.
//
// Missed fires: a restart (or UNPAUSE) resumes from the cursor. alarm and
// interval skip the fires that fell while Wisp was down and continue with
// the next one in the future (their maxTriggers count carries on); once
// fires at start when its date passed while Wisp was down and it had not
// fired. Time comes from a Clock, so tests run schedules without waiting.
// The Provider type implements feeds.Provider.
package alarms
