package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wispio/wisp/entity"
)

// Sentinel errors every implementation returns (possibly wrapped).
var (
	// ErrNotFound: no such entity, activation or subject.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a create found the name taken, or an update or delete
	// carried a revision that is no longer current.
	ErrConflict = errors.New("conflict")
)

// Collection names an entity collection within a namespace.
type Collection string

// The entity collections.
const (
	Actions  Collection = "actions"
	Triggers Collection = "triggers"
	Rules    Collection = "rules"
	Packages Collection = "packages"
	// Feeds holds the feed registrations (package feeds) and FeedEvents
	// their outbox of events not yet fired, both in namespace whisk.system.
	Feeds      Collection = "feeds"
	FeedEvents Collection = "feedevents"
)

// Record is one stored entity document.
type Record struct {
	Namespace  string
	Collection Collection
	// Name is the entity's path within the namespace ("name" or "pkg/name").
	Name string
	// Rev is the revision: empty on create, the current one on update.
	Rev string
	Doc json.RawMessage
}

// ListOptions page through a collection in name order.
type ListOptions struct {
	// Prefix keeps only names starting with it ("pkg/" lists a package).
	Prefix string
	// StartAfter, when set, keeps only names after it (in name order):
	// the last name of one page continues with the next, whatever was
	// added or deleted before it since. Skip and Limit apply after it.
	StartAfter string
	Skip       int
	// Limit caps the result; 0 means no limit.
	Limit int
	// Project, when set, replaces each listed document by what it
	// returns (a summary of it, in new memory). The store calls it as it
	// reads each document, before keeping anything of it, so that a list
	// of large documents (actions with their code) holds one document at
	// a time and returns only the summaries. The doc it is given is valid
	// only during the call. It must fail on a document that is not JSON
	// (decoding it does); a document it fails on is skipped and counted,
	// as an undecodable one is.
	Project func(doc []byte) ([]byte, error)
}

// Projected returns doc as opts.Project makes it, or doc itself when
// opts has no Project: what a store keeps of a listed document.
func (opts ListOptions) Projected(doc []byte) ([]byte, error) {
	if opts.Project == nil {
		return doc, nil
	}
	return opts.Project(doc)
}

// ActivationFilter selects activations of one namespace, newest first.
type ActivationFilter struct {
	// Name keeps only activations of this entity path ("name" or "pkg/name").
	Name string
	// Since and Upto bound the start time in epoch milliseconds (0: unbounded).
	Since, Upto int64
	Skip        int
	// Limit caps the result; 0 means no limit.
	Limit int
}

// Store keeps Wisp's state. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the current record of an entity or ErrNotFound.
	Get(ctx context.Context, ns string, c Collection, name string) (Record, error)
	// Put creates rec when rec.Rev is empty (ErrConflict when the name is
	// taken) or replaces the revision rec.Rev (ErrConflict when it is not the
	// current one, ErrNotFound when the entity is gone). It returns the new
	// revision. A revision is never reused, not even after the entity is
	// deleted and created again.
	Put(ctx context.Context, rec Record) (string, error)
	// Delete removes an entity at revision rev, or at any revision when rev
	// is empty.
	Delete(ctx context.Context, ns string, c Collection, name, rev string) error
	// List returns a namespace's records of one collection in name order.
	List(ctx context.Context, ns string, c Collection, opts ListOptions) ([]Record, error)
	// Count returns how many records List would return without paging.
	Count(ctx context.Context, ns string, c Collection, prefix string) (int, error)

	// PutActivations stores activation records; storing an id again replaces
	// the record, so a redelivered activation is never stored twice.
	PutActivations(ctx context.Context, acts []*entity.Activation) error
	// GetActivation returns one activation of a namespace or ErrNotFound.
	GetActivation(ctx context.Context, ns, id string) (*entity.Activation, error)
	// ListActivations returns a namespace's activations, newest first by
	// start time; records with the same start come in descending id order.
	ListActivations(ctx context.Context, ns string, f ActivationFilter) ([]*entity.Activation, error)

	// CreateSubject stores a new namespace owner; ErrConflict when the
	// namespace or uuid exists.
	CreateSubject(ctx context.Context, s entity.Subject) error
	// SubjectByUUID returns the subject with that uuid or ErrNotFound.
	SubjectByUUID(ctx context.Context, uuid string) (entity.Subject, error)
	// Subject returns the subject of a namespace or ErrNotFound.
	Subject(ctx context.Context, namespace string) (entity.Subject, error)
	// Subjects lists all subjects in namespace order.
	Subjects(ctx context.Context) ([]entity.Subject, error)
	// DeleteSubject removes a namespace's subject (not its entities);
	// ErrNotFound when there is none.
	DeleteSubject(ctx context.Context, namespace string) error
	// SetSubjectLimits replaces a namespace's own throttles (nil clears
	// them); ErrNotFound when there is no such namespace.
	SetSubjectLimits(ctx context.Context, namespace string, limits *entity.NamespaceLimits) error

	Close() error
}

// GetDoc reads an entity and decodes its document into a new T.
func GetDoc[T any](ctx context.Context, s Store, ns string, c Collection, name string) (*T, string, error) {
	rec, err := s.Get(ctx, ns, c, name)
	if err != nil {
		return nil, "", err
	}
	v := new(T)
	if err := json.Unmarshal(rec.Doc, v); err != nil {
		return nil, "", fmt.Errorf("decode %s %s/%s: %w", c, ns, name, err)
	}
	return v, rec.Rev, nil
}

// PutDoc encodes v and stores it as a record (see Store.Put).
func PutDoc(ctx context.Context, s Store, ns string, c Collection, name, rev string, v any) (string, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s %s/%s: %w", c, ns, name, err)
	}
	return s.Put(ctx, Record{Namespace: ns, Collection: c, Name: name, Rev: rev, Doc: doc})
}

// LaterDeleter is implemented by stores that can remove an entity without
// the caller waiting for the removal to be durable: DeleteLater returns at
// once, and the removal commits with a coming write (or soon on its own).
// A crash may undo it; use it only where that is harmless.
type LaterDeleter interface {
	DeleteLater(ctx context.Context, ns string, c Collection, name string)
	// CommitLater commits the deferred deletes now and returns once they
	// are durable.
	CommitLater(ctx context.Context) error
}

// DeleteLater removes an entity at any revision through st's DeleteLater
// when it has one (nil error), else with Delete (its error).
func DeleteLater(ctx context.Context, st Store, ns string, c Collection, name string) error {
	if l, ok := st.(LaterDeleter); ok {
		l.DeleteLater(ctx, ns, c, name)
		return nil
	}
	return st.Delete(ctx, ns, c, name, "")
}

// CommitLater commits st's deferred deletes (a no-op for a store without
// DeleteLater).
func CommitLater(ctx context.Context, st Store) error {
	if l, ok := st.(LaterDeleter); ok {
		return l.CommitLater(ctx)
	}
	return nil
}

// SkipCounter is implemented by stores whose lists skip records they
// cannot decode (a record written before a limit existed, a corrupt
// value): such a record must never fail a whole list. The store logs each
// one with its key; Undecodable counts them since the store was opened.
type SkipCounter interface {
	Undecodable() int64
}
