package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// CreateSubject stores a new namespace owner and indexes its uuid.
func (s *Store) CreateSubject(ctx context.Context, sub entity.Subject) error {
	if err := s.createSubject(ctx, sub); err != nil {
		return fmt.Errorf("create subject %s: %w", sub.Namespace, err)
	}
	return nil
}

func (s *Store) createSubject(ctx context.Context, sub entity.Subject) error {
	if err := checkName("namespace", sub.Namespace); err != nil {
		return err
	}
	if sub.UUID == "" {
		return fmt.Errorf("uuid is missing")
	}
	doc, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		subjects, uuids := tx.Bucket(bucketSubjects), tx.Bucket(bucketSubjectUUIDs)
		if subjects.Get([]byte(sub.Namespace)) != nil {
			return fmt.Errorf("namespace exists: %w", store.ErrConflict)
		}
		if uuids.Get([]byte(sub.UUID)) != nil {
			return fmt.Errorf("uuid %s exists: %w", sub.UUID, store.ErrConflict)
		}
		if err := subjects.Put([]byte(sub.Namespace), doc); err != nil {
			return err
		}
		return uuids.Put([]byte(sub.UUID), []byte(sub.Namespace))
	})
}

// SubjectByUUID returns the subject with that uuid.
func (s *Store) SubjectByUUID(ctx context.Context, uuid string) (entity.Subject, error) {
	if err := ctx.Err(); err != nil {
		return entity.Subject{}, fmt.Errorf("subject by uuid %s: %w", uuid, err)
	}
	var sub entity.Subject
	err := s.db.View(func(tx *bbolt.Tx) error {
		ns := tx.Bucket(bucketSubjectUUIDs).Get([]byte(uuid))
		if ns == nil {
			return store.ErrNotFound
		}
		return getSubject(tx, ns, &sub)
	})
	if err != nil {
		return entity.Subject{}, fmt.Errorf("subject by uuid %s: %w", uuid, err)
	}
	return sub, nil
}

// Subject returns the subject of a namespace.
func (s *Store) Subject(ctx context.Context, namespace string) (entity.Subject, error) {
	if err := ctx.Err(); err != nil {
		return entity.Subject{}, fmt.Errorf("subject %s: %w", namespace, err)
	}
	var sub entity.Subject
	err := s.db.View(func(tx *bbolt.Tx) error {
		return getSubject(tx, []byte(namespace), &sub)
	})
	if err != nil {
		return entity.Subject{}, fmt.Errorf("subject %s: %w", namespace, err)
	}
	return sub, nil
}

// getSubject decodes the subject of namespace ns into sub (encoding/json
// copies what it keeps, so decoding from the memory map is safe).
func getSubject(tx *bbolt.Tx, ns []byte, sub *entity.Subject) error {
	v := tx.Bucket(bucketSubjects).Get(ns)
	if v == nil {
		return store.ErrNotFound
	}
	if err := json.Unmarshal(v, sub); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// Subjects lists all subjects in namespace order.
func (s *Store) Subjects(ctx context.Context) ([]entity.Subject, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	out := []entity.Subject{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSubjects).ForEach(func(k, v []byte) error {
			var sub entity.Subject
			if err := json.Unmarshal(v, &sub); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, sub)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	return out, nil
}

// DeleteSubject removes a namespace's subject and its uuid; the
// namespace's entities and activations stay.
func (s *Store) DeleteSubject(ctx context.Context, namespace string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete subject %s: %w", namespace, err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var sub entity.Subject
		if err := getSubject(tx, []byte(namespace), &sub); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSubjects).Delete([]byte(namespace)); err != nil {
			return err
		}
		return tx.Bucket(bucketSubjectUUIDs).Delete([]byte(sub.UUID))
	})
	if err != nil {
		return fmt.Errorf("delete subject %s: %w", namespace, err)
	}
	return nil
}

// SetSubjectLimits replaces a namespace's own throttles.
func (s *Store) SetSubjectLimits(ctx context.Context, namespace string, limits *entity.NamespaceLimits) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set limits of %s: %w", namespace, err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var sub entity.Subject
		if err := getSubject(tx, []byte(namespace), &sub); err != nil {
			return err
		}
		sub.Limits = limits
		doc, err := json.Marshal(sub)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		return tx.Bucket(bucketSubjects).Put([]byte(namespace), doc)
	})
	if err != nil {
		return fmt.Errorf("set limits of %s: %w", namespace, err)
	}
	return nil
}
