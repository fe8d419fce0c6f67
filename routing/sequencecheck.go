package routing

import (
	"context"
	"errors"
	"fmt"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// OpenWhisk's messages about sequences.
const (
	msgSequenceTooLong          = "Too many actions in the sequence."
	msgSequenceCyclic           = "Sequence may not refer to itself."
	msgSequenceComponentMissing = "Sequence component does not exist."
)

// componentLookup resolves one component: its concrete name and, when it
// is itself a sequence, its components.
type componentLookup func(ctx context.Context, f entity.FQN) (concrete entity.FQN, components []string, err error)

// CheckSequence validates the components of the sequence seq before it is
// stored, as OpenWhisk does: every component exists and subject may read it,
// seq does not appear among them (directly or inside component sequences,
// which is how an update would create a cycle), and the number of atomic
// actions with component sequences inlined is at most limit. Failures are
// *entity.FieldError (400) or *ForbiddenError (403).
func (r *Resolver) CheckSequence(ctx context.Context, subject string, seq entity.FQN, components []string, limit int) error {
	lookup := func(ctx context.Context, f entity.FQN) (entity.FQN, []string, error) {
		res, err := r.Action(ctx, subject, f)
		if err != nil {
			return entity.FQN{}, nil, err
		}
		if res.Action.Exec.Kind == entity.KindSequence {
			return res.FQN, res.Action.Exec.Components, nil
		}
		return res.FQN, nil, nil
	}
	return checkSequence(ctx, lookup, seq, components, limit)
}

func checkSequence(ctx context.Context, lookup componentLookup, seq entity.FQN, components []string, limit int) error {
	if len(components) > limit {
		return entity.Invalid("exec.components", msgSequenceTooLong)
	}
	n := 0
	var walk func(comps []string, path map[entity.FQN]bool) error
	walk = func(comps []string, path map[entity.FQN]bool) error {
		for _, c := range comps {
			f, err := entity.ParseFQN("exec.components", c, seq.Namespace)
			if err != nil {
				return err
			}
			concrete, sub, err := lookup(ctx, f)
			if errors.Is(err, store.ErrNotFound) {
				return entity.Invalid("exec.components", "%s (%s)", msgSequenceComponentMissing, c)
			}
			if err != nil {
				return err
			}
			if concrete == seq || path[concrete] {
				return entity.Invalid("exec.components", "%s (%s)", msgSequenceCyclic, c)
			}
			if sub == nil {
				n++
			} else {
				path[concrete] = true
				err := walk(sub, path)
				delete(path, concrete)
				if err != nil {
					return err
				}
			}
			if n > limit {
				return entity.Invalid("exec.components", "%s (more than %d atomic actions with nested sequences inlined)", msgSequenceTooLong, limit)
			}
		}
		return nil
	}
	if err := walk(components, map[entity.FQN]bool{}); err != nil {
		return fmt.Errorf("check sequence %s: %w", seq, err)
	}
	return nil
}
