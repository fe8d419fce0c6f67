package apigw

import (
	"sync"
	"time"
)

// Limiter enforces the APIs' rate limits with one token bucket per API
// (namespace and base path): Rate requests, refilled evenly over the
// period. The buckets live in this process: in a cluster each controller
// counts the requests it serves, as package throttle does.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex // guards buckets and sweepAt
	buckets map[string]*bucket
	// sweepAt is the number of buckets at which the next new one first
	// removes those that refilled completely (a full bucket is no
	// different from none), so the buckets of deleted APIs do not pile
	// up: at least minSweep, twice what the last sweep kept.
	sweepAt int
}

// minSweep is the fewest buckets a sweep runs at.
const minSweep = 1024

type bucket struct {
	limit  RateLimit
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter reading time from now (time.Now when nil).
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, buckets: map[string]*bucket{}, sweepAt: minSweep}
}

// Allow takes one request from the bucket of key under limit; false means
// the API is over its rate. A changed limit starts a full bucket.
func (l *Limiter) Allow(key string, limit RateLimit) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || b.limit != limit {
		if b == nil && len(l.buckets) >= l.sweepAt {
			l.sweepLocked(now)
		}
		b = &bucket{limit: limit, tokens: float64(limit.Rate), last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(limit.Rate), b.tokens+float64(limit.Rate)*elapsed.Seconds()/limit.Period().Seconds())
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepLocked removes the buckets that have refilled completely since
// their last request; l.mu is held.
func (l *Limiter) sweepLocked(now time.Time) {
	for key, b := range l.buckets {
		if now.Sub(b.last) >= b.limit.Period() {
			delete(l.buckets, key)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}

// Buckets is how many buckets the limiter holds.
func (l *Limiter) Buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
