package routing

import (
	"fmt"
	"sync"
	"testing"

	"github.com/wispio/wisp/entity"
)

func fqn(ns, name string) entity.FQN { return entity.FQN{Namespace: ns, Name: name} }

// activeActions lists the actions a fire of trigger would start.
func activeActions(x *RuleIndex, trigger entity.FQN) []string {
	e, ok := x.Lookup(trigger)
	if !ok {
		return nil
	}
	out := []string{}
	for _, r := range e.Rules {
		if r.Active {
			out = append(out, r.Action.String())
		}
	}
	return out
}

func TestRuleIndex(t *testing.T) {
	T := &entity.Trigger{Namespace: "ns", Name: "T", Version: "0.0.1"}
	r1, r2 := fqn("ns", "r1"), fqn("ns", "r2")
	a, b := fqn("ns", "a"), entity.FQN{Namespace: "shared", Package: "p", Name: "b"}
	tests := []struct {
		name    string
		doc     *entity.Trigger // nil deletes the trigger
		want    []string        // nil: the trigger is not indexed
		wantAll int
	}{
		{name: "trigger without rules", doc: T, want: []string{}},
		{name: "add a rule", doc: T.WithRule(r1, a, entity.StatusActive), want: []string{"/ns/a"}, wantAll: 1},
		{name: "add a second rule", doc: T.WithRule(r1, a, entity.StatusActive).WithRule(r2, b, entity.StatusActive), want: []string{"/ns/a", "/shared/p/b"}, wantAll: 2},
		{name: "disable one", doc: T.WithRule(r1, a, entity.StatusInactive).WithRule(r2, b, entity.StatusActive), want: []string{"/shared/p/b"}, wantAll: 2},
		{name: "disable both", doc: T.WithRule(r1, a, entity.StatusInactive).WithRule(r2, b, entity.StatusInactive), want: []string{}, wantAll: 2},
		{name: "enable again", doc: T.WithRule(r1, a, entity.StatusActive).WithRule(r2, b, entity.StatusInactive), want: []string{"/ns/a"}, wantAll: 2},
		{name: "delete a rule", doc: T.WithRule(r1, a, entity.StatusActive).WithRule(r2, b, entity.StatusInactive).WithoutRule(r1), want: []string{}, wantAll: 1},
		{name: "delete the trigger", doc: nil, want: nil},
	}
	x := NewRuleIndex()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.doc == nil {
				x.Delete(T.FQN())
			} else {
				x.Put(tt.doc)
			}
			got := activeActions(x, T.FQN())
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("active actions = %v, want %v", got, tt.want)
			}
			if e, ok := x.Lookup(T.FQN()); ok && (len(e.Rules) != tt.wantAll || e.Active != len(tt.want)) {
				t.Fatalf("entry = %+v", e)
			}
		})
	}
	if _, ok := x.Lookup(fqn("other", "T")); ok {
		t.Fatal("a trigger of another namespace was found")
	}
}

// TestRuleIndexConcurrent runs lookups while rules are enabled, disabled
// and triggers deleted; run with -race. Every lookup must see a whole
// document: either both rules active or neither.
func TestRuleIndexConcurrent(t *testing.T) {
	x := NewRuleIndex()
	T := &entity.Trigger{Namespace: "ns", Name: "T"}
	on := T.WithRule(fqn("ns", "r1"), fqn("ns", "a"), entity.StatusActive).WithRule(fqn("ns", "r2"), fqn("ns", "b"), entity.StatusActive)
	off := T.WithRule(fqn("ns", "r1"), fqn("ns", "a"), entity.StatusInactive).WithRule(fqn("ns", "r2"), fqn("ns", "b"), entity.StatusInactive)
	x.Put(on)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if e, ok := x.Lookup(T.FQN()); ok && e.Active != 0 && e.Active != 2 {
					t.Errorf("lookup saw %d active rules", e.Active)
					return
				}
			}
		}()
	}
	for i := range 2000 {
		switch i % 3 {
		case 0:
			x.Put(off)
		case 1:
			x.Delete(T.FQN())
		default:
			x.Put(on)
		}
	}
	close(stop)
	wg.Wait()
	x.Put(off)
	if got := activeActions(x, T.FQN()); len(got) != 0 {
		t.Fatalf("after the last disable, a fire would start %v", got)
	}
}

// BenchmarkRuleLookup measures one fire's lookup in indexes of growing
// size (ten rules per trigger): the cost per lookup should stay flat.
func BenchmarkRuleLookup(b *testing.B) {
	for _, rules := range []int{100, 10_000, 100_000} {
		b.Run(fmt.Sprintf("rules=%d", rules), func(b *testing.B) {
			x := NewRuleIndex()
			triggers := rules / 10
			names := make([]entity.FQN, triggers)
			for i := range triggers {
				tr := &entity.Trigger{Namespace: fmt.Sprintf("ns%d", i%100), Name: fmt.Sprintf("t%d", i)}
				for j := range 10 {
					tr = tr.WithRule(fqn(tr.Namespace, fmt.Sprintf("r%d-%d", i, j)), fqn(tr.Namespace, "a"), entity.StatusActive)
				}
				x.Put(tr)
				names[i] = tr.FQN()
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					e, ok := x.Lookup(names[i%len(names)])
					if !ok || e.Active != 10 {
						b.Fatal("lookup missed")
					}
					i += 7919
				}
			})
		})
	}
}
