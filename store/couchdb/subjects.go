package couchdb

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
)

// Subject document ids: "ns:" + namespace holds the subject, "uuid:" +
// uuid the namespace owning the uuid.
const (
	subjectIDPrefix = "ns:"
	uuidIDPrefix    = "uuid:"
)

// subjectDoc is a subject's document.
type subjectDoc struct {
	Rev string `json:"_rev,omitempty"`
	entity.Subject
}

// uuidDoc reserves a uuid for a namespace.
type uuidDoc struct {
	Rev       string `json:"_rev,omitempty"`
	Namespace string `json:"namespace"`
}

// CreateSubject reserves the uuid, then creates the namespace's subject,
// releasing the uuid when the namespace is taken. A crash in between
// leaves a reserved uuid that no subject names: SubjectByUUID ignores it.
func (s *Store) CreateSubject(ctx context.Context, sub entity.Subject) error {
	if err := s.createSubject(ctx, sub); err != nil {
		return fmt.Errorf("create subject %s: %w", sub.Namespace, err)
	}
	return nil
}

func (s *Store) createSubject(ctx context.Context, sub entity.Subject) error {
	switch {
	case sub.Namespace == "":
		return errors.New("namespace is missing")
	case sub.UUID == "":
		return errors.New("uuid is missing")
	}
	uuidRev, err := s.subjects.Put(ctx, uuidIDPrefix+sub.UUID, uuidDoc{Namespace: sub.Namespace})
	if err != nil {
		return fmt.Errorf("uuid %s: %w", sub.UUID, mapStatus(err))
	}
	_, err = s.subjects.Put(ctx, subjectIDPrefix+sub.Namespace, subjectDoc{Subject: sub})
	if err == nil {
		return nil
	}
	if _, derr := s.subjects.Delete(ctx, uuidIDPrefix+sub.UUID, uuidRev); derr != nil {
		err = errors.Join(err, fmt.Errorf("release uuid %s: %w", sub.UUID, derr))
	}
	return mapStatus(err)
}

// SubjectByUUID returns the subject with that uuid.
func (s *Store) SubjectByUUID(ctx context.Context, uuid string) (entity.Subject, error) {
	var u uuidDoc
	if err := s.subjects.Get(ctx, uuidIDPrefix+uuid).ScanDoc(&u); err != nil {
		return entity.Subject{}, fmt.Errorf("subject by uuid %s: %w", uuid, mapStatus(err))
	}
	sub, err := s.Subject(ctx, u.Namespace)
	if err == nil && sub.UUID != uuid {
		err = store.ErrNotFound // a reservation left by a failed create
	}
	if err != nil {
		return entity.Subject{}, fmt.Errorf("subject by uuid %s: %w", uuid, err)
	}
	return sub, nil
}

// Subject returns the subject of a namespace.
func (s *Store) Subject(ctx context.Context, namespace string) (entity.Subject, error) {
	var d subjectDoc
	if err := s.subjects.Get(ctx, subjectIDPrefix+namespace).ScanDoc(&d); err != nil {
		return entity.Subject{}, fmt.Errorf("subject %s: %w", namespace, mapStatus(err))
	}
	return d.Subject, nil
}

// Subjects lists all subjects in namespace order.
func (s *Store) Subjects(ctx context.Context) ([]entity.Subject, error) {
	out := []entity.Subject{}
	params := idRange(subjectIDPrefix)
	params["include_docs"] = true
	err := scanRows(s.subjects.AllDocs(ctx, kivik.Params(params)), func(row *kivik.ResultSet) error {
		var d subjectDoc
		if err := row.ScanDoc(&d); err != nil {
			id, _ := row.ID()
			return fmt.Errorf("%s: %w", id, err)
		}
		out = append(out, d.Subject)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	return out, nil
}

// DeleteSubject removes a namespace's subject, then its uuid reservation.
func (s *Store) DeleteSubject(ctx context.Context, namespace string) error {
	if err := s.deleteSubject(ctx, namespace); err != nil {
		return fmt.Errorf("delete subject %s: %w", namespace, err)
	}
	return nil
}

func (s *Store) deleteSubject(ctx context.Context, namespace string) error {
	var d subjectDoc
	id := subjectIDPrefix + namespace
	if err := s.subjects.Get(ctx, id).ScanDoc(&d); err != nil {
		return mapStatus(err)
	}
	if _, err := s.subjects.Delete(ctx, id, d.Rev); err != nil {
		return mapStatus(err)
	}
	uuidID := uuidIDPrefix + d.UUID
	var u uuidDoc
	err := s.subjects.Get(ctx, uuidID).ScanDoc(&u)
	switch {
	case couch.Status(err) == http.StatusNotFound:
		return nil
	case err != nil:
		return fmt.Errorf("release uuid %s: %w", d.UUID, err)
	case u.Namespace != namespace:
		return nil // reserved again by another namespace meanwhile
	}
	if _, err := s.subjects.Delete(ctx, uuidID, u.Rev); err != nil && couch.Status(err) != http.StatusNotFound {
		return fmt.Errorf("release uuid %s: %w", d.UUID, err)
	}
	return nil
}

// SetSubjectLimits replaces a namespace's own throttles; a concurrent
// change of the subject answers store.ErrConflict.
func (s *Store) SetSubjectLimits(ctx context.Context, namespace string, limits *entity.NamespaceLimits) error {
	var d subjectDoc
	id := subjectIDPrefix + namespace
	err := s.subjects.Get(ctx, id).ScanDoc(&d)
	if err == nil {
		d.Limits = limits
		_, err = s.subjects.Put(ctx, id, d)
	}
	if err != nil {
		return fmt.Errorf("set limits of %s: %w", namespace, mapStatus(err))
	}
	return nil
}
