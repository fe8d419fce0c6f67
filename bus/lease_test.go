package bus_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wispio/wisp/bus"
)

// Leases: one holder at a time; a renewal by a node that lost the lease
// fails; a released lease is free at once, an abandoned one after its TTL.
func TestLeases(t *testing.T) {
	prefix := uniquePrefix()
	ctx := t.Context()
	la, err := connect(t, prefix).Leases(ctx, "LEASES", "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := connect(t, prefix).Leases(ctx, "LEASES", "b", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const name = "ns/trigger with space"
	for _, step := range []struct {
		what string
		do   func() (string, error)
		want string
	}{
		{"a acquires", func() (string, error) { return la.Acquire(ctx, name) }, "a"},
		{"b finds a", func() (string, error) { return lb.Acquire(ctx, name) }, "a"},
		{"a renews", func() (string, error) { return renewed(ctx, la, name) }, "true"},
		{"b cannot renew", func() (string, error) { return renewed(ctx, lb, name) }, "false"},
		{"a holds it", func() (string, error) { return la.Holder(ctx, name) }, "a"},
		{"a releases", func() (string, error) { return "", la.Release(ctx, name) }, ""},
		{"b acquires", func() (string, error) { return lb.Acquire(ctx, name) }, "b"},
		{"a has lost it", func() (string, error) { return renewed(ctx, la, name) }, "false"},
	} {
		got, err := step.do()
		if err != nil || got != step.want {
			t.Fatalf("%s: %q, %v; want %q", step.what, got, err, step.want)
		}
	}
	// b stops renewing: the lease expires and a takes it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		holder, err := la.Acquire(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if holder == "a" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease b abandoned never expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ok, err := lb.Renew(ctx, name); ok || err != nil {
		t.Fatalf("b renewed a lease it lost: %v %v", ok, err)
	}
}

type renewer interface {
	Renew(ctx context.Context, name string) (bool, error)
}

func renewed(ctx context.Context, l renewer, name string) (string, error) {
	ok, err := l.Renew(ctx, name)
	if ok {
		return "true", err
	}
	return "false", err
}

// Request reaches the process that Serves the subject and returns its
// answer; a subject nobody serves fails at once.
func TestServeRequest(t *testing.T) {
	prefix := uniquePrefix()
	server, client := connect(t, prefix), connect(t, prefix)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := server.Serve(ctx, "echo", func(_ context.Context, req []byte) ([]byte, bool) {
		return append([]byte("re: "), req...), string(req) != "silence"
	}); err != nil {
		t.Fatal(err)
	}
	got, err := client.Request(ctx, "echo", []byte("hi"))
	if err != nil || string(got) != "re: hi" {
		t.Fatalf("request: %q, %v", got, err)
	}
	if _, err := client.Request(ctx, "nobody", []byte("hi")); err == nil {
		t.Fatal("a request nobody serves succeeded")
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if got, err := client.Request(short, "echo", []byte("silence")); err == nil {
		t.Fatalf("a request the server does not answer got %q", got)
	}
}

// Live: every node that marked itself within the TTL, sorted; a node
// that stops marking itself drops out after the TTL.
func TestLeasesLive(t *testing.T) {
	prefix := uniquePrefix()
	ctx := t.Context()
	lb, err := connect(t, prefix).Leases(ctx, "LEASES", "b", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	la, err := connect(t, prefix).Leases(ctx, "LEASES", "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if live, err := lb.Live(ctx); err != nil || !slices.Equal(live, []string{"b"}) {
		t.Fatalf("b alone: %v %v", live, err)
	}
	if live, err := la.Live(ctx); err != nil || !slices.Equal(live, []string{"a", "b"}) {
		t.Fatalf("a and b: %v %v, want [a b]", live, err)
	}
	// a stops marking itself: b soon sees itself alone.
	deadline := time.Now().Add(10 * time.Second)
	for {
		live, err := lb.Live(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(live, []string{"b"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a never dropped out: %v", live)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The lease time is the bucket's: a node opening it with another one
// renews at the bucket's pace instead of changing the others' leases.
// Leave takes a node out of the live ones at once.
func TestLeasesTimeAndLeave(t *testing.T) {
	prefix := uniquePrefix()
	ctx := t.Context()
	la, err := connect(t, prefix).Leases(ctx, "LEASES", "a", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := connect(t, prefix).Leases(ctx, "LEASES", "b", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*bus.Leases{la, lb} {
		if got := l.TTL(); got != 2*time.Second {
			t.Errorf("%s's lease time %s, want the bucket's 2s", l.Node(), got)
		}
	}
	if _, err := connect(t, prefix).Leases(ctx, "LEASES", "c", 500*time.Millisecond); err == nil {
		t.Error("a lease time under 1s was accepted")
	}
	if _, err := la.Live(ctx); err != nil {
		t.Fatal(err)
	}
	if live, err := lb.Live(ctx); err != nil || !slices.Equal(live, []string{"a", "b"}) {
		t.Fatalf("live %v %v, want [a b]", live, err)
	}
	if err := la.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if live, err := lb.Live(ctx); err != nil || !slices.Equal(live, []string{"b"}) {
		t.Errorf("live after a left: %v %v, want [b]", live, err)
	}
	if err := la.Leave(ctx); err != nil {
		t.Errorf("leaving twice: %v", err)
	}
}
