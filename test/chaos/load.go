package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// loadRun sends the API load and checks its records.
type loadRun struct {
	cfg  *Config
	api  *apiClient
	mqtt *mqttRun // nil: no MQTT part

	mu      sync.Mutex     // guards the fields below
	invokes map[string]int // accepted invocation id → n
	fires   map[string]int // accepted fire (trigger activation) id → n
	seqs    map[string]int // accepted sequence activation id → n
	refused int
}

// run sends Invokes, Fires and Sequences requests, shuffled, from Callers
// callers, and calls crash (kill and restart) once KillAt of
// them were handed out. MQTT messages, if any, are published in step with
// the requests, so the kill falls in their middle too.
func (l *loadRun) run(ctx context.Context, crash func() error) error {
	l.invokes, l.fires, l.seqs = map[string]int{}, map[string]int{}, map[string]int{}
	total := l.cfg.Invokes + l.cfg.Fires + l.cfg.Sequences
	// The kinds, mixed the same way every run.
	kinds := make([]jobKind, total)
	for i := range kinds {
		switch {
		case i < l.cfg.Fires:
			kinds[i] = fireJob
		case i < l.cfg.Fires+l.cfg.Sequences:
			kinds[i] = sequenceJob
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(total, func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	type job struct {
		n    int
		kind jobKind
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range l.cfg.Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				l.send(ctx, j.n, j.kind)
			}
		}()
	}
	var mq sync.WaitGroup
	var due chan int
	if l.mqtt != nil {
		due = make(chan int, l.cfg.MQTTMessages)
		mq.Add(1)
		go func() {
			defer mq.Done()
			l.mqtt.publishFrom(due)
		}()
	}
	killAt := int(float64(total) * l.cfg.KillAt)
	published := 0
	var err error
	for i := range total {
		if i == killAt {
			if err = crash(); err != nil {
				break
			}
		}
		jobs <- job{n: i, kind: kinds[i]}
		for due != nil && published < l.cfg.MQTTMessages && published*total <= i*l.cfg.MQTTMessages {
			due <- published
			published++
		}
	}
	close(jobs)
	wg.Wait()
	if due != nil {
		for ; published < l.cfg.MQTTMessages; published++ {
			due <- published
		}
		close(due)
		mq.Wait()
	}
	return err
}

// jobKind is what one request of the load does.
type jobKind int

const (
	invokeJob   jobKind = iota // a non-blocking invoke of noop
	fireJob                    // a fire of tick, whose rule runs noop
	sequenceJob                // a non-blocking invoke of the sequence seq
)

func (l *loadRun) send(ctx context.Context, n int, kind jobKind) {
	path := map[jobKind]string{
		invokeJob: "_/actions/noop?blocking=false", fireJob: "_/triggers/tick", sequenceJob: "_/actions/seq?blocking=false",
	}[kind]
	code, body, err := l.api.do(ctx, http.MethodPost, path, map[string]any{"n": n})
	var res struct {
		ActivationID string `json:"activationId"`
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || code != http.StatusAccepted || json.Unmarshal(body, &res) != nil || res.ActivationID == "" {
		l.refused++ // not accepted: the caller knows to retry
		return
	}
	map[jobKind]map[string]int{invokeJob: l.invokes, fireJob: l.fires, sequenceJob: l.seqs}[kind][res.ActivationID] = n
}

// ruleLog is one rule's line in a trigger activation's logs.
type ruleLog struct {
	ActivationID string `json:"activationId"`
	Success      bool   `json:"success"`
	Error        string `json:"error"`
}

// check waits up to settle for the records of everything accepted, then
// counts: invocations, trigger activations, and the rule activations their
// logs name; duplicates are records of noop with the same n.
func (l *loadRun) check(ctx context.Context, settle time.Duration) ([]Row, error) {
	deadline := time.Now().Add(settle)
	inv := Row{What: "API invocations", Accepted: len(l.invokes)}
	trig := Row{What: "trigger fires", Accepted: len(l.fires)}
	rules := Row{What: "rule activations"}
	seq := Row{What: "API sequence invocations", Accepted: len(l.seqs)}
	wantN := map[int]bool{}
	pending := map[string]bool{}
	for id, n := range l.invokes {
		pending[id] = true
		wantN[n] = true
	}
	seqIDs := map[string]bool{}
	for id := range l.seqs {
		pending[id] = true
		seqIDs[id] = true
	}
	ruleIDs := map[string]bool{}
	firePending := map[string]bool{}
	for id := range l.fires {
		firePending[id] = true
	}
	for {
		for id := range firePending {
			act, ok, err := l.api.get(ctx, id)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			delete(firePending, id)
			for _, line := range act.Logs {
				var r ruleLog
				if json.Unmarshal([]byte(line), &r) != nil || r.ActivationID == "" {
					rules.Accepted++
					rules.Missing++
					rules.Examples = appendExample(rules.Examples, fmt.Sprintf("fire %s: rule not started: %s", id, line))
					continue
				}
				rules.Accepted++
				ruleIDs[r.ActivationID] = true
				pending[r.ActivationID] = true
				wantN[l.fires[id]] = true
			}
		}
		for id := range pending {
			_, ok, err := l.api.get(ctx, id)
			if err != nil {
				return nil, err
			}
			if ok {
				delete(pending, id)
			}
		}
		if (len(pending) == 0 && len(firePending) == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for id := range firePending {
		trig.Missing++
		trig.Examples = appendExample(trig.Examples, id)
	}
	trig.Recorded = trig.Accepted - trig.Missing
	for id := range pending {
		if seqIDs[id] {
			seq.Missing++
			seq.Examples = appendExample(seq.Examples, id)
		} else if ruleIDs[id] {
			rules.Missing++
			rules.Examples = appendExample(rules.Examples, id)
		} else {
			inv.Missing++
			inv.Examples = appendExample(inv.Examples, id)
		}
	}
	inv.Recorded = inv.Accepted - inv.Missing
	rules.Recorded = rules.Accepted - rules.Missing
	seq.Recorded = seq.Accepted - seq.Missing

	acts, err := l.api.list(ctx, "noop")
	if err != nil {
		return nil, err
	}
	seen := map[int]int{}
	for _, a := range acts {
		var r struct {
			Result struct {
				N *int `json:"n"`
			} `json:"result"`
		}
		if json.Unmarshal(a.Response, &r) == nil && r.Result.N != nil && wantN[*r.Result.N] {
			seen[*r.Result.N]++
		}
	}
	for n, c := range seen {
		if c > 1 {
			if _, invoked := l.invokedN(n); invoked {
				inv.Duplicated += c - 1
			} else {
				rules.Duplicated += c - 1
			}
		}
	}
	rows := []Row{inv, trig, rules}
	if l.cfg.Sequences > 0 {
		rows = append(rows, seq)
	}
	return rows, nil
}

// invokedN reports whether n was sent as an invocation (else a fire).
func (l *loadRun) invokedN(n int) (string, bool) {
	for id, m := range l.invokes {
		if m == n {
			return id, true
		}
	}
	return "", false
}

func appendExample(ex []string, s string) []string {
	if len(ex) < 5 {
		ex = append(ex, s)
	}
	return ex
}
