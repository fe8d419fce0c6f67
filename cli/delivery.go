package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// deliveryFlags are the flags of rule create/update for a rule's retries
// and dead-letter trigger (README: "Retries and dead letters").
type deliveryFlags struct {
	attempts           int
	backoff, maxDelay  time.Duration
	onApplicationError bool
	deadLetter, sink   string
}

func (f *deliveryFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.attempts, "retry-attempts", 0, "attempt a failed activation up to `N` times in all")
	fl.DurationVar(&f.backoff, "retry-backoff", 0, "wait `DURATION` before the second attempt, doubling after (default 1s)")
	fl.DurationVar(&f.maxDelay, "retry-max-backoff", 0, "wait at most `DURATION` between attempts (default 32 times --retry-backoff)")
	fl.BoolVar(&f.onApplicationError, "retry-on-application-error", false, "also retry activations that end in an application error")
	fl.StringVar(&f.deadLetter, "dead-letter", "", "fire `TRIGGER` with the event and the failure after the last attempt")
	fl.StringVar(&f.sink, "sink", "", "send each successful result as a CloudEvent to `URL_OR_TRIGGER`")
}

// apply sets the rule body's delivery fields the flags name.
func (f *deliveryFlags) apply(body *client.EntityPut) {
	if f.attempts > 0 || f.backoff > 0 || f.maxDelay > 0 || f.onApplicationError {
		body.Retry = &client.RetryPolicy{
			Attempts: max(f.attempts, 1), OnApplicationError: f.onApplicationError,
			Backoff: client.Backoff{Initial: f.backoff.Milliseconds(), Max: f.maxDelay.Milliseconds()},
		}
	}
	body.DeadLetter = f.deadLetter
	body.Sink = f.sink
}
