package invoker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// PoolConfig sets the container pool's behaviour.
type PoolConfig struct {
	// UserMemoryMB is the memory budget for all containers together.
	UserMemoryMB int
	// PauseGrace is how long an idle container stays unpaused.
	PauseGrace time.Duration
	// IdleTimeout is how long an idle container lives before removal.
	IdleTimeout time.Duration
	// StemCells are the prewarmed containers to keep ready, started but
	// not initialised, per kind and memory size. A cold start of a matching
	// action takes one and skips the container's creation; the pool refills
	// in the background. Stem cells count against UserMemoryMB and are the
	// first to be evicted when an action needs the memory.
	StemCells []StemCell
	// RefillRetry is the wait before a failed stem cell creation is retried
	// (default 10 s).
	RefillRetry time.Duration
	// StemDemand sizes the stem cells from recent demand; its zero value
	// keeps only the StemCells counts.
	StemDemand StemDemand
}

// StemCell asks for Count prewarmed containers of Kind with MemoryMB: the
// floor, which demand (PoolConfig.StemDemand) may raise up to Max.
type StemCell struct {
	Kind     string `json:"kind"`
	MemoryMB int    `json:"memory"`
	Count    int    `json:"count"`
	// Max is this shape's ceiling under demand (0: StemDemand.Max).
	Max int `json:"max,omitempty"`
}

// DefaultPoolConfig returns OpenWhisk's defaults with a 2 GB budget: two
// nodejs:20 stem cells of 256 MB, as OpenWhisk's default runtimes manifest,
// raised by demand (DefaultStemDemand).
func DefaultPoolConfig() PoolConfig {
	return PoolConfig{
		UserMemoryMB: 2048, PauseGrace: 50 * time.Millisecond, IdleTimeout: 10 * time.Minute,
		StemCells:  []StemCell{{Kind: "nodejs:20", MemoryMB: 256, Count: 2}},
		StemDemand: DefaultStemDemand(),
	}
}

// ErrMemory means an action needs more memory than the whole budget.
var ErrMemory = errors.New("the action's memory limit exceeds the invoker's user memory")

// Pool owns the containers of one invoker. A container serves only the
// action and revision it was initialised for.
type Pool struct {
	backend Backend
	cfg     PoolConfig
	log     *slog.Logger

	mu      sync.Mutex // guards everything below and every slot's pool fields
	byKey   map[string][]*Slot
	stems   map[StemCell][]*Slot // prewarmed containers by kind and memory (Count 0 in the key)
	usedMB  int
	freed   chan struct{} // closed and replaced when memory is freed or a container gets spare capacity
	closing bool

	demand   demand    // recent stem claims and cold starts, per kind and memory
	creating int       // stem cells being created now
	failedAt time.Time // when a stem cell creation last failed (time.Now)

	refill   chan struct{}  // wakes the refiller (buffered 1)
	done     chan struct{}  // closed by Close: stops the refiller
	creators sync.WaitGroup // stem cell creations under way; Close waits for them
}

// Slot is a pool entry: one container and its use.
type Slot struct {
	pool   *Pool
	key    string
	memory int
	maxUse int
	c      Container
	kind   string // the container's runtime kind (Spec.Kind)
	// start is how the last Acquire had the container: StartCold,
	// StartStem, StartWarm or StartResume.
	start string

	// Guarded by pool.mu.
	inflight    int
	initialized bool
	removed     bool
	lastUsed    time.Time
	timer       *time.Timer
	stem        *StemCell // set while the slot is a stem cell (key "")

	stateMu sync.Mutex // serialises Pause and Resume; guards frozen
	frozen  bool
}

// Container is the slot's container.
func (s *Slot) Container() Container { return s.c }

// How Acquire had a container (Slot.Start): the metrics' start label.
const (
	StartCold   = "cold"   // created for the action
	StartStem   = "stem"   // a prewarmed stem cell taken for the action
	StartWarm   = "warm"   // reused, running
	StartResume = "resume" // reused, unpaused
)

// Start says how the Acquire that returned s had its container.
func (s *Slot) Start() string { return s.start }

// NewPool returns a pool making containers with b. When cfg asks for stem
// cells it starts filling them in the background at once.
func NewPool(b Backend, cfg PoolConfig, log *slog.Logger) *Pool {
	if cfg.RefillRetry <= 0 {
		cfg.RefillRetry = 10 * time.Second
	}
	cfg.StemDemand = cfg.StemDemand.withDefaults(cfg.UserMemoryMB)
	p := &Pool{
		backend: b, cfg: cfg, log: log,
		byKey: map[string][]*Slot{}, stems: map[StemCell][]*Slot{},
		demand: newDemand(cfg.StemDemand.Burst, cfg.StemDemand.Window),
		freed:  make(chan struct{}), refill: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if p.stemsWanted() {
		go p.refiller()
		p.wantRefill()
	}
	return p
}

// Acquire returns a container for the action key: a warm or paused one with
// spare concurrency when there is one (cold false), else a new one (cold
// true, not initialised: call Initialized after a successful /init). It
// waits for memory when the budget is used by busy containers.
func (p *Pool) Acquire(ctx context.Context, key string, spec Spec, concurrency int) (*Slot, bool, error) {
	if spec.MemoryMB > p.cfg.UserMemoryMB {
		return nil, false, fmt.Errorf("%w: %d MB > %d MB", ErrMemory, spec.MemoryMB, p.cfg.UserMemoryMB)
	}
	for {
		p.mu.Lock()
		if p.closing {
			p.mu.Unlock()
			return nil, false, errors.New("the container pool is closing")
		}
		if s := p.warmLocked(key); s != nil {
			s.inflight++
			p.mu.Unlock()
			resumed, err := s.thaw(ctx)
			if err != nil {
				// The container is gone (its engine restarted, say): forget
				// it and look again.
				p.log.Warn("drop a container that cannot be resumed", "container", s.c.ID(), "err", err)
				p.Release(s, false)
				continue
			}
			s.start = StartWarm
			if resumed {
				s.start = StartResume
			}
			return s, false, nil
		}
		if s := p.takeStemLocked(key, spec, concurrency); s != nil {
			p.mu.Unlock()
			p.wantRefill()
			s.start = StartStem
			return s, true, nil
		}
		if p.reserveLocked(spec.MemoryMB) {
			s := &Slot{pool: p, key: key, kind: spec.Kind, start: StartCold, memory: spec.MemoryMB, maxUse: max(concurrency, 1), inflight: 1}
			p.byKey[key] = append(p.byKey[key], s)
			p.coldStartLocked(spec)
			p.mu.Unlock()
			c, err := p.backend.Create(ctx, spec)
			if err != nil {
				p.mu.Lock()
				p.dropLocked(s)
				p.mu.Unlock()
				return nil, false, fmt.Errorf("create container for %s: %w", spec.Action, err)
			}
			s.c = c
			return s, true, nil
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, false, fmt.Errorf("wait for container memory: %w", ctx.Err())
		}
	}
}

// warmLocked finds an initialised container of key with spare concurrency,
// preferring the most recently used one. A container found dead (its
// engine stopped it) is removed on the way.
func (p *Pool) warmLocked(key string) *Slot {
	var best, dead *Slot
	for _, s := range p.byKey[key] {
		if s.initialized && !s.removed && s.inflight < s.maxUse {
			if s.c != nil && !s.c.Alive() {
				dead = s
				continue
			}
			if best == nil || s.lastUsed.After(best.lastUsed) {
				best = s
			}
		}
	}
	if dead != nil && dead.inflight == 0 {
		p.removeLocked(dead)
	}
	if best != nil && best.timer != nil {
		best.timer.Stop()
	}
	return best
}

// reserveLocked books memory, evicting idle containers least recently used
// first when the budget is full.
func (p *Pool) reserveLocked(mb int) bool {
	for p.usedMB+mb > p.cfg.UserMemoryMB {
		victim := p.lruIdleLocked()
		if victim == nil {
			return false
		}
		p.removeLocked(victim)
	}
	p.usedMB += mb
	return true
}

func (p *Pool) lruIdleLocked() *Slot {
	for _, slots := range p.stems { // stem cells go first
		for _, s := range slots {
			if s.c != nil && !s.removed {
				return s
			}
		}
	}
	var lru *Slot
	for _, slots := range p.byKey {
		for _, s := range slots {
			if s.inflight == 0 && !s.removed && s.c != nil && (lru == nil || s.lastUsed.Before(lru.lastUsed)) {
				lru = s
			}
		}
	}
	return lru
}

// Initialized marks a cold container as initialised, so others may reuse it.
func (p *Pool) Initialized(s *Slot) {
	p.mu.Lock()
	s.initialized = true
	p.wakeLocked()
	p.mu.Unlock()
}

// wakeLocked wakes the Acquire calls waiting for memory: a container was
// freed, or has become reusable (initialised, or done with an activation),
// so a waiter may now share it or evict it.
func (p *Pool) wakeLocked() {
	close(p.freed)
	p.freed = make(chan struct{})
}

// Release returns a container after an activation. healthy false removes it
// (a timeout, a crash, a failed init).
func (p *Pool) Release(s *Slot, healthy bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.inflight--
	s.lastUsed = time.Now()
	if !healthy || !s.initialized || p.closing {
		p.removeLocked(s)
		return
	}
	p.wakeLocked()
	if s.inflight == 0 {
		if s.timer == nil {
			s.timer = time.AfterFunc(p.cfg.PauseGrace, s.idle)
		} else {
			s.timer.Reset(p.cfg.PauseGrace)
		}
	}
}

// idle runs when a container has been idle for the pause grace or the idle
// timeout: it pauses the container, or removes it after the idle timeout.
func (s *Slot) idle() {
	p := s.pool
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	p.mu.Lock()
	if s.inflight > 0 || s.removed {
		p.mu.Unlock()
		return
	}
	if idleFor := time.Since(s.lastUsed); idleFor >= p.cfg.IdleTimeout {
		p.removeLocked(s)
		p.mu.Unlock()
		return
	} else {
		s.timer.Reset(p.cfg.IdleTimeout - idleFor)
	}
	p.mu.Unlock()
	if s.frozen {
		return
	}
	if err := s.c.Pause(context.Background()); err != nil {
		p.log.Warn("pause container", "container", s.c.ID(), "err", err)
		return
	}
	s.frozen = true
}

// thaw resumes a paused container (resumed true).
func (s *Slot) thaw(ctx context.Context) (resumed bool, err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if !s.frozen {
		return false, nil
	}
	if err := s.c.Resume(ctx); err != nil {
		return false, fmt.Errorf("resume container %s: %w", s.c.ID(), err)
	}
	s.frozen = false
	return true, nil
}

// removeLocked takes s out of the pool and destroys its container in the
// background.
func (p *Pool) removeLocked(s *Slot) {
	if s.removed {
		return
	}
	p.dropLocked(s)
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.c != nil {
		go func() {
			if err := s.c.Destroy(context.Background()); err != nil {
				p.log.Warn("destroy container", "container", s.c.ID(), "err", err)
			}
		}()
	}
}

// dropLocked forgets s and frees its memory.
func (p *Pool) dropLocked(s *Slot) {
	s.removed = true
	if s.stem != nil {
		p.stems[*s.stem] = deleteSlot(p.stems[*s.stem], s)
		p.usedMB -= s.memory
		p.wakeLocked()
		p.wantRefill()
		return
	}
	slots := deleteSlot(p.byKey[s.key], s)
	if len(slots) == 0 {
		delete(p.byKey, s.key)
	} else {
		p.byKey[s.key] = slots
	}
	p.usedMB -= s.memory
	p.wakeLocked()
}

func deleteSlot(slots []*Slot, s *Slot) []*Slot {
	for i, x := range slots {
		if x == s {
			return append(slots[:i], slots[i+1:]...)
		}
	}
	return slots
}

// Stats is a snapshot of the pool for tests and metrics.
type Stats struct {
	// Containers counts the action containers (stem cells not included).
	Containers, Busy, Paused, UsedMB int
	// StemCells counts the prewarmed containers ready to be taken.
	StemCells int
	// Kinds splits the counts above (UsedMB aside) by runtime kind.
	Kinds map[string]KindStats
}

// KindStats counts one runtime kind's containers in Stats.
type KindStats struct {
	Containers, Busy, Paused, StemCells int
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Stats{UsedMB: p.usedMB, Kinds: map[string]KindStats{}}
	for _, slots := range p.stems {
		for _, s := range slots {
			if s.c != nil {
				st.StemCells++
				k := st.Kinds[s.kind]
				k.StemCells++
				st.Kinds[s.kind] = k
			}
		}
	}
	for _, slots := range p.byKey {
		for _, s := range slots {
			k := st.Kinds[s.kind]
			st.Containers++
			k.Containers++
			if s.inflight > 0 {
				st.Busy++
				k.Busy++
			}
			if s.stateMu.TryLock() {
				if s.frozen {
					st.Paused++
					k.Paused++
				}
				s.stateMu.Unlock()
			}
			st.Kinds[s.kind] = k
		}
	}
	return st
}

// Close removes every container and refuses new work.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		close(p.done)
	}
	p.closing = true
	var all []*Slot
	for _, slots := range p.byKey {
		all = append(all, slots...)
	}
	for _, slots := range p.stems {
		for _, s := range slots {
			if s.c != nil {
				all = append(all, s)
			}
		}
	}
	for _, s := range all {
		if s.inflight == 0 {
			p.removeLocked(s)
		}
	}
	p.mu.Unlock()
	// A stem cell being created is destroyed by its creator once made
	// (createStem sees closing): closing the backend under it would leave
	// a container the engine made and no one knows of.
	created := make(chan struct{})
	go func() { p.creators.Wait(); close(created) }()
	select {
	case <-created:
	case <-ctx.Done():
	}
	return p.backend.Close(ctx)
}

// ContainerInfo describes one pooled container.
type ContainerInfo struct {
	// Key is the action and revision the container serves.
	Key      string
	ID, URL  string
	Inflight int
	Paused   bool
	// Secret is what the container's proxy requires on /init and /run
	// ("" for none), for tools that reach it directly (bench); never log it.
	Secret string
}

// Containers lists the pool's initialised containers.
func (p *Pool) Containers() []ContainerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ContainerInfo
	for key, slots := range p.byKey {
		for _, s := range slots {
			if s.c == nil || !s.initialized {
				continue
			}
			info := ContainerInfo{Key: key, ID: s.c.ID(), URL: s.c.URL(), Inflight: s.inflight, Secret: containerSecret(s.c)}
			if s.stateMu.TryLock() {
				info.Paused = s.frozen
				s.stateMu.Unlock()
			}
			out = append(out, info)
		}
	}
	return out
}
