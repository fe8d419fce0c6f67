package invoker

import (
	"context"
	"time"
)

// StemDemand sizes the stem cell pools from recent demand: for each kind
// and memory it counts the starts that wanted a stem cell (claims and cold
// starts) in buckets of Burst, and keeps as many spares as the busiest
// bucket of the last Window had, at least StemCell.Count (the floor) and
// at most Max, with all stem cells above their floors within MemoryMB.
// Only the configured shapes (PoolConfig.StemCells) have stem cells; a
// floor of 0 makes a shape's pool purely demand-driven. Spares above a
// falling target are removed.
type StemDemand struct {
	// Max is the most stem cells demand may keep for one kind and memory
	// (a floor above it still holds); 0 turns demand sizing off.
	Max int `json:"max"`
	// Window is how long a start counts (default 5 min).
	Window time.Duration `json:"window"`
	// Burst is the bucket starts are counted in (default 1 s): demand is
	// the most starts of one bucket within the window.
	Burst time.Duration `json:"burst"`
	// MemoryMB bounds the memory of all stem cells together, floors
	// included, against which only demand above the floors is refused
	// (default half of the pool's UserMemoryMB).
	MemoryMB int `json:"memory"`
	// Creators is how many stem cells are created at once (default 2).
	Creators int `json:"creators"`
	// Now is the clock of demand (default time.Now), for tests.
	Now func() time.Time `json:"-"`
}

// DefaultStemDemand keeps up to 8 spares per kind and memory for the
// busiest second of the last five minutes.
func DefaultStemDemand() StemDemand {
	return StemDemand{Max: 8, Window: 5 * time.Minute, Burst: time.Second, Creators: 2}
}

func (d StemDemand) withDefaults(userMemoryMB int) StemDemand {
	if d.Window <= 0 {
		d.Window = 5 * time.Minute
	}
	if d.Burst <= 0 {
		d.Burst = time.Second
	}
	if d.MemoryMB <= 0 {
		d.MemoryMB = userMemoryMB / 2
	}
	if d.Creators <= 0 {
		d.Creators = 2
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// demand counts starts per stem cell shape in buckets; owned by Pool.mu.
type demand struct {
	burst, window time.Duration
	buckets       map[StemCell][]bucket // oldest first
}

type bucket struct {
	start time.Time
	n     int
}

func newDemand(burst, window time.Duration) demand {
	return demand{burst: burst, window: window, buckets: map[StemCell][]bucket{}}
}

// note counts one start of cell at now.
func (d *demand) note(cell StemCell, now time.Time) {
	start := now.Truncate(d.burst)
	bs := d.buckets[cell]
	if n := len(bs); n > 0 && bs[n-1].start.Equal(start) {
		bs[n-1].n++
		return
	}
	d.buckets[cell] = append(bs, bucket{start: start, n: 1})
}

// peaks returns each cell's most starts in one bucket of the window
// ending at now, forgetting older buckets.
func (d *demand) peaks(now time.Time) map[StemCell]int {
	out := make(map[StemCell]int, len(d.buckets))
	oldest := now.Add(-d.window)
	for cell, bs := range d.buckets {
		i := 0
		for i < len(bs) && !bs[i].start.Add(d.burst).After(oldest) {
			i++
		}
		if bs = bs[i:]; len(bs) == 0 {
			delete(d.buckets, cell)
			continue
		}
		d.buckets[cell] = bs
		for _, b := range bs {
			out[cell] = max(out[cell], b.n)
		}
	}
	return out
}

// stemTargets is how many stem cells each configured shape should have:
// its floor (Count), raised towards its demand peak (at most its Max, else
// d.Max) while all stem cells fit in d.MemoryMB, one cell at a time across
// the shapes so that none starves the others.
func stemTargets(cells []StemCell, peaks map[StemCell]int, d StemDemand) map[StemCell]int {
	targets := map[StemCell]int{}
	used := 0
	for _, c := range cells {
		shape := StemCell{Kind: c.Kind, MemoryMB: c.MemoryMB}
		targets[shape] += c.Count
		used += c.Count * c.MemoryMB
	}
	if d.Max <= 0 {
		return targets
	}
	extra := make([]int, len(cells))
	for i, c := range cells {
		ceiling := c.Max
		if ceiling <= 0 {
			ceiling = d.Max
		}
		extra[i] = min(peaks[StemCell{Kind: c.Kind, MemoryMB: c.MemoryMB}], ceiling) - c.Count
	}
	for grown := true; grown; {
		grown = false
		for i, c := range cells {
			if extra[i] > 0 && used+c.MemoryMB <= d.MemoryMB {
				targets[StemCell{Kind: c.Kind, MemoryMB: c.MemoryMB}]++
				extra[i]--
				used += c.MemoryMB
				grown = true
			}
		}
	}
	return targets
}

// stemShape is the stem cell that could serve spec; false for blackbox
// actions (they bring their own image) and actions without network (their
// container is made without one).
func stemShape(spec Spec) (StemCell, bool) {
	if spec.Kind == "blackbox" || spec.NoNetwork {
		return StemCell{}, false
	}
	return StemCell{Kind: spec.Kind, MemoryMB: spec.MemoryMB}, true
}

// stemsWanted reports whether the pool keeps stem cells at all.
func (p *Pool) stemsWanted() bool { return len(p.cfg.StemCells) > 0 }

// configured reports whether cell is a shape of PoolConfig.StemCells.
func (p *Pool) configured(cell StemCell) bool {
	for _, c := range p.cfg.StemCells {
		if c.Kind == cell.Kind && c.MemoryMB == cell.MemoryMB {
			return true
		}
	}
	return false
}

// coldStartLocked counts a cold start of spec as demand for its stem cell
// shape, when that is configured, and wakes the refiller.
func (p *Pool) coldStartLocked(spec Spec) {
	if cell, ok := stemShape(spec); ok && p.cfg.StemDemand.Max > 0 && p.configured(cell) {
		p.demand.note(cell, p.cfg.StemDemand.Now())
		p.wantRefill()
	}
}

// takeStemLocked hands a ready stem cell of spec's kind and memory to the
// action key, counting the claim as demand, or returns nil.
func (p *Pool) takeStemLocked(key string, spec Spec, concurrency int) *Slot {
	cell, ok := stemShape(spec)
	if !ok {
		return nil
	}
	for _, s := range p.stems[cell] {
		if s.c == nil || s.removed {
			continue // still being created
		}
		if !s.c.Alive() {
			p.removeLocked(s)
			return p.takeStemLocked(key, spec, concurrency)
		}
		p.stems[cell] = deleteSlot(p.stems[cell], s)
		s.stem, s.key, s.maxUse, s.inflight = nil, key, max(concurrency, 1), 1
		p.byKey[key] = append(p.byKey[key], s)
		if p.cfg.StemDemand.Max > 0 {
			p.demand.note(cell, p.cfg.StemDemand.Now())
		}
		return s
	}
	return nil
}

// wantRefill wakes the refiller without waiting for it.
func (p *Pool) wantRefill() {
	if !p.stemsWanted() {
		return
	}
	select {
	case p.refill <- struct{}{}:
	default:
	}
}

// refiller keeps the stem cells at their targets until Close: it removes
// spares above them and creates the missing ones, StemDemand.Creators at a
// time, never evicting anything for a stem cell, and waits RefillRetry
// after a failed creation. While demand is above the floors it looks again
// every StemDemand.Burst, since the targets fall as starts age out.
func (p *Pool) refiller() {
	wake := time.NewTimer(time.Hour)
	wake.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-p.refill:
		case <-wake.C:
		}
		p.mu.Lock()
		again := p.resizeLocked()
		p.mu.Unlock()
		wake.Stop()
		if again > 0 {
			wake.Reset(again)
		}
	}
}

// resizeLocked brings the stem cells towards their targets and says when
// to look again (0: on the next wake only).
func (p *Pool) resizeLocked() time.Duration {
	if p.closing {
		return 0
	}
	d := p.cfg.StemDemand
	targets := stemTargets(p.cfg.StemCells, p.demand.peaks(d.Now()), d)
	var again time.Duration
	if len(p.demand.buckets) > 0 {
		again = d.Burst
	}
	for cell, slots := range p.stems {
		for i := len(slots) - 1; i >= 0 && len(p.stems[cell]) > targets[cell]; i-- {
			if s := slots[i]; s.c != nil && !s.removed {
				p.removeLocked(s)
			}
		}
	}
	if wait := p.cfg.RefillRetry - time.Since(p.failedAt); wait > 0 {
		return wait
	}
	for p.creating < d.Creators {
		cell, s := p.nextStemLocked(targets)
		if s == nil {
			break
		}
		p.creating++
		p.creators.Add(1)
		go p.createStem(cell, s)
	}
	return again
}

// nextStemLocked books memory and a pending slot for the shape furthest
// below its target, or returns nil when all are full or memory is short.
func (p *Pool) nextStemLocked(targets map[StemCell]int) (StemCell, *Slot) {
	var best StemCell
	most := 0
	for cell, want := range targets {
		short := want - len(p.stems[cell])
		if short <= 0 || p.usedMB+cell.MemoryMB > p.cfg.UserMemoryMB {
			continue
		}
		if short > most || short == most && (cell.Kind < best.Kind || cell.Kind == best.Kind && cell.MemoryMB < best.MemoryMB) {
			best, most = cell, short
		}
	}
	if most == 0 {
		return StemCell{}, nil
	}
	s := &Slot{pool: p, kind: best.Kind, memory: best.MemoryMB, stem: &best}
	p.stems[best] = append(p.stems[best], s)
	p.usedMB += best.MemoryMB
	return best, s
}

// createStem makes the container of the pending stem cell s. It is not
// cancelled by Close (which waits for it): a creation cut short may leave
// a container the engine made but the backend never learnt of.
func (p *Pool) createStem(cell StemCell, s *Slot) {
	defer p.creators.Done()
	c, err := p.backend.Create(context.Background(), Spec{Kind: cell.Kind, MemoryMB: cell.MemoryMB, Action: "stem-cell"})
	p.mu.Lock()
	p.creating--
	if err != nil {
		p.failedAt = time.Now()
		p.dropLocked(s) // wakes the refiller, which waits RefillRetry
		p.mu.Unlock()
		p.log.Warn("create stem cell", "kind", cell.Kind, "memory", cell.MemoryMB, "err", err)
		return
	}
	if p.closing || s.removed {
		p.mu.Unlock()
		if err := c.Destroy(context.Background()); err != nil {
			p.log.Warn("destroy stem cell", "container", c.ID(), "err", err)
		}
		return
	}
	s.c = c
	s.lastUsed = time.Now()
	p.wakeLocked()
	p.mu.Unlock()
	p.wantRefill()
}
