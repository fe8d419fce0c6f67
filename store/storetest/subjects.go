package storetest

import (
	"slices"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

func subject(ns, uuid string) entity.Subject {
	return entity.Subject{Namespace: ns, UUID: uuid, KeyHash: entity.HashKey("key-of-" + ns), Created: 1700000000000}
}

func mustCreateSubject(t *testing.T, s store.Store, sub entity.Subject) {
	t.Helper()
	if err := s.CreateSubject(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubject %s: %v", sub.Namespace, err)
	}
}

func testSubjects(t *testing.T, open opener) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := open(t)
		want := subject("alice", "u-alice")
		mustCreateSubject(t, s, want)
		got, err := s.Subject(t.Context(), "alice")
		if err != nil || got != want {
			t.Fatalf("Subject = %+v, %v; want %+v", got, err, want)
		}
		got, err = s.SubjectByUUID(t.Context(), "u-alice")
		if err != nil || got != want {
			t.Fatalf("SubjectByUUID = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("CreateConflicts", func(t *testing.T) {
		tests := []struct {
			name string
			sub  entity.Subject
		}{
			{"SameNamespace", subject("alice", "u-other")},
			{"SameUUID", subject("bob", "u-alice")},
			{"Both", subject("alice", "u-alice")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := open(t)
				orig := subject("alice", "u-alice")
				mustCreateSubject(t, s, orig)
				err := s.CreateSubject(t.Context(), tt.sub)
				wantErr(t, "CreateSubject", err, store.ErrConflict)
				// Nothing of the failed create may remain.
				if got, err := s.Subject(t.Context(), "alice"); err != nil || got != orig {
					t.Errorf("Subject(alice) = %+v, %v; want the original %+v", got, err, orig)
				}
				if tt.sub.Namespace != "alice" {
					_, err := s.Subject(t.Context(), tt.sub.Namespace)
					wantErr(t, "Subject of the rejected namespace", err, store.ErrNotFound)
				}
				if tt.sub.UUID != "u-alice" {
					_, err := s.SubjectByUUID(t.Context(), tt.sub.UUID)
					wantErr(t, "SubjectByUUID of the rejected uuid", err, store.ErrNotFound)
				}
			})
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		mustCreateSubject(t, s, subject("alice", "u-alice"))
		_, err := s.Subject(t.Context(), "bob")
		wantErr(t, "Subject of a missing namespace", err, store.ErrNotFound)
		_, err = s.SubjectByUUID(t.Context(), "u-bob")
		wantErr(t, "SubjectByUUID of a missing uuid", err, store.ErrNotFound)
		err = s.DeleteSubject(t.Context(), "bob")
		wantErr(t, "DeleteSubject of a missing namespace", err, store.ErrNotFound)
	})
	t.Run("SubjectsInNamespaceOrder", func(t *testing.T) {
		s := open(t)
		if subs, err := s.Subjects(t.Context()); err != nil || len(subs) != 0 {
			t.Fatalf("Subjects of an empty store = %v, %v", subs, err)
		}
		for _, ns := range []string{"carol", "alice", "bob", "alice2"} {
			mustCreateSubject(t, s, subject(ns, "u-"+ns))
		}
		subs, err := s.Subjects(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sub := range subs {
			if sub != subject(sub.Namespace, "u-"+sub.Namespace) {
				t.Errorf("listed subject %+v differs from the stored one", sub)
			}
			got = append(got, sub.Namespace)
		}
		if want := []string{"alice", "alice2", "bob", "carol"}; !slices.Equal(got, want) {
			t.Fatalf("Subjects = %q, want %q", got, want)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		mustCreateSubject(t, s, subject("alice", "u-alice"))
		mustCreateSubject(t, s, subject("bob", "u-bob"))
		mustPut(t, s, rec("alice", store.Actions, "a", "", `{}`))
		if err := s.DeleteSubject(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		_, err := s.Subject(t.Context(), "alice")
		wantErr(t, "Subject after delete", err, store.ErrNotFound)
		_, err = s.SubjectByUUID(t.Context(), "u-alice")
		wantErr(t, "SubjectByUUID after delete", err, store.ErrNotFound)
		if _, err := s.SubjectByUUID(t.Context(), "u-bob"); err != nil {
			t.Errorf("the other subject is gone: %v", err)
		}
		// The namespace's entities stay.
		mustGet(t, s, "alice", store.Actions, "a")
		// Namespace and uuid are free again.
		mustCreateSubject(t, s, subject("alice", "u-alice"))
	})
	t.Run("SetLimits", func(t *testing.T) {
		s := open(t)
		mustCreateSubject(t, s, subject("alice", "u-alice"))
		zero, sixty := 0, 60
		limits := &entity.NamespaceLimits{InvocationsPerMinute: &sixty, FiresPerMinute: &zero}
		if err := s.SetSubjectLimits(t.Context(), "alice", limits); err != nil {
			t.Fatal(err)
		}
		for name, get := range map[string]func() (entity.Subject, error){
			"Subject":       func() (entity.Subject, error) { return s.Subject(t.Context(), "alice") },
			"SubjectByUUID": func() (entity.Subject, error) { return s.SubjectByUUID(t.Context(), "u-alice") },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			l := got.Limits
			if l == nil || l.InvocationsPerMinute == nil || *l.InvocationsPerMinute != 60 ||
				l.FiresPerMinute == nil || *l.FiresPerMinute != 0 || l.ConcurrentInvocations != nil {
				t.Errorf("%s limits = %+v, want invocationsPerMinute 60, firesPerMinute 0, concurrentInvocations unset", name, l)
			}
			if got.KeyHash != subject("alice", "u-alice").KeyHash {
				t.Errorf("%s: setting limits changed the key", name)
			}
		}
		if err := s.SetSubjectLimits(t.Context(), "alice", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Subject(t.Context(), "alice"); err != nil || got != subject("alice", "u-alice") {
			t.Errorf("Subject after clearing limits = %+v, %v", got, err)
		}
		err := s.SetSubjectLimits(t.Context(), "bob", limits)
		wantErr(t, "SetSubjectLimits of a missing namespace", err, store.ErrNotFound)
	})
}
