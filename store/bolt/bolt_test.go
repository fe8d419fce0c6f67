package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
	"github.com/wispio/wisp/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "wisp.db"))
	})
}

func open(t testing.TB, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDataSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "wisp.db")
	s, err := bolt.Open(path, bolt.Options{}) // synced, as in production
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "pkg/a", Doc: []byte(`{"v":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	act := &entity.Activation{ActivationID: entity.NewActivationID(), Namespace: "ns", Name: "pkg/a", Start: 42, Logs: []string{}}
	if err := s.PutActivations(ctx, []*entity.Activation{act}); err != nil {
		t.Fatal(err)
	}
	sub := entity.Subject{Namespace: "ns", UUID: "u", KeyHash: "h", Created: 1}
	if err := s.CreateSubject(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "ns", store.Actions, "pkg/a"); err == nil {
		t.Fatal("Get after Close succeeded")
	}

	s = open(t, path)
	defer s.Close()
	got, err := s.Get(ctx, "ns", store.Actions, "pkg/a")
	if err != nil || got.Rev != rev || string(got.Doc) != `{"v":1}` {
		t.Fatalf("entity after reopen: %+v, %v; want rev %q", got, err, rev)
	}
	byName, err := s.ListActivations(ctx, "ns", store.ActivationFilter{Name: "pkg/a"})
	if err != nil || len(byName) != 1 || byName[0].ActivationID != act.ActivationID || byName[0].Start != 42 {
		t.Fatalf("activations after reopen: %v, %v", byName, err)
	}
	if got, err := s.SubjectByUUID(ctx, "u"); err != nil || got != sub {
		t.Fatalf("subject after reopen: %+v, %v", got, err)
	}
	// Revisions keep counting from the stored one.
	rev2, err := s.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "pkg/a", Rev: rev, Doc: []byte(`{}`)})
	if err != nil || rev2[:2] != "2-" {
		t.Fatalf("update after reopen: %q, %v; want revision 2-...", rev2, err)
	}
}

func TestRejectsBadKeys(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "wisp.db"))
	defer s.Close()
	ctx := t.Context()
	recs := []store.Record{
		{Namespace: "", Collection: store.Actions, Name: "a"},
		{Namespace: "ns", Collection: store.Actions, Name: ""},
		{Namespace: "ns", Collection: "", Name: "a"},
		{Namespace: "n\x00s", Collection: store.Actions, Name: "a"},
		{Namespace: "ns", Collection: store.Actions, Name: "a\x00b"},
	}
	for _, r := range recs {
		if _, err := s.Put(ctx, r); err == nil {
			t.Errorf("Put %q accepted", r.Namespace+"/"+string(r.Collection)+"/"+r.Name)
		}
	}
	acts := []*entity.Activation{
		{ActivationID: "", Namespace: "ns", Name: "a"},
		{ActivationID: "x", Namespace: "", Name: "a"},
		{ActivationID: "x", Namespace: "ns", Name: "a\x00"},
	}
	for _, a := range acts {
		if err := s.PutActivations(ctx, []*entity.Activation{a}); err == nil {
			t.Errorf("PutActivations of %+v accepted", a)
		}
	}
	if err := s.CreateSubject(ctx, entity.Subject{Namespace: "ns"}); err == nil {
		t.Error("CreateSubject without uuid accepted")
	}
}

func TestCancelledContext(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "wisp.db"))
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	checks := map[string]error{}
	_, checks["Get"] = s.Get(ctx, "ns", store.Actions, "a")
	_, checks["Put"] = s.Put(ctx, store.Record{Namespace: "ns", Collection: store.Actions, Name: "a"})
	checks["Delete"] = s.Delete(ctx, "ns", store.Actions, "a", "")
	_, checks["List"] = s.List(ctx, "ns", store.Actions, store.ListOptions{})
	_, checks["Count"] = s.Count(ctx, "ns", store.Actions, "")
	checks["PutActivations"] = s.PutActivations(ctx, []*entity.Activation{{ActivationID: "x", Namespace: "ns", Name: "a"}})
	_, checks["GetActivation"] = s.GetActivation(ctx, "ns", "x")
	_, checks["ListActivations"] = s.ListActivations(ctx, "ns", store.ActivationFilter{})
	checks["CreateSubject"] = s.CreateSubject(ctx, entity.Subject{Namespace: "ns", UUID: "u"})
	_, checks["Subject"] = s.Subject(ctx, "ns")
	_, checks["SubjectByUUID"] = s.SubjectByUUID(ctx, "u")
	_, checks["Subjects"] = s.Subjects(ctx)
	checks["DeleteSubject"] = s.DeleteSubject(ctx, "ns")
	for name, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
}
