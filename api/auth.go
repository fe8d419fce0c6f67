package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wispio/wisp/actionkey"
	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// identity is an authenticated caller.
type identity struct {
	Namespace string
	// Key is the credential the caller used ("uuid:key"). Activations it
	// starts never see it: the invoker mints them activation keys, which
	// expire no later than Key when it is an activation key itself.
	Key string
	// Activation says Key is an activation key (see package actionkey),
	// held by an action for the length of one activation: it acts as
	// Namespace but must not manage the namespace's keys.
	Activation bool
}

// keyExpires is when the caller's key expires if it is an activation key:
// the activation keys of the actions it starts expire no later. Zero for
// a namespace owner's key, which does not expire.
func (id *identity) keyExpires() time.Time {
	if !id.Activation {
		return time.Time{}
	}
	exp, _ := actionkey.Expiry(id.Key)
	return exp
}

// authenticator verifies Basic uuid:key credentials, caching verified
// subjects for a while so the warm path does not touch the store.
// Activation keys are verified by their signature and expiry, and only
// while their namespace exists.
type authenticator struct {
	store store.Store
	ttl   time.Duration
	keys  *actionkey.Keys
	now   func() time.Time // the clock activation keys expire by

	mu    sync.RWMutex // guards cache and byNamespace
	cache map[string]cachedSubject
	// byNamespace caches subjects looked up by namespace (web actions name
	// their owner's namespace, not a key).
	byNamespace map[string]cachedSubject
}

type cachedSubject struct {
	subject entity.Subject
	expires time.Time
}

func newAuthenticator(st store.Store, ttl time.Duration) *authenticator {
	return &authenticator{
		store: st, ttl: ttl, keys: actionkey.New(st), now: time.Now,
		cache: map[string]cachedSubject{}, byNamespace: map[string]cachedSubject{},
	}
}

func (a *authenticator) authenticate(r *http.Request) (identity, error) {
	uuid, key, ok := r.BasicAuth()
	if !ok {
		return identity{}, newError(http.StatusUnauthorized, msgUnauthenticated)
	}
	if actionkey.IsActivationKey(uuid) {
		return a.activationIdentity(r.Context(), uuid, key)
	}
	now := time.Now()
	a.mu.RLock()
	c, hit := a.cache[uuid]
	a.mu.RUnlock()
	if !hit || now.After(c.expires) {
		subj, err := a.store.SubjectByUUID(r.Context(), uuid)
		if errors.Is(err, store.ErrNotFound) {
			return identity{}, newError(http.StatusUnauthorized, msgBadAuth)
		}
		if err != nil {
			return identity{}, err
		}
		c = cachedSubject{subject: subj, expires: now.Add(a.ttl)}
		a.mu.Lock()
		a.cache[uuid] = c
		a.mu.Unlock()
	}
	if !c.subject.Matches(key) {
		return identity{}, newError(http.StatusUnauthorized, msgBadAuth)
	}
	return identity{Namespace: c.subject.Namespace, Key: uuid + ":" + key}, nil
}

// subjectByUUID returns the subject whose key has this uuid (an API
// gateway URL names its namespace so), cached like verified keys;
// store.ErrNotFound when there is none.
func (a *authenticator) subjectByUUID(ctx context.Context, uuid string) (entity.Subject, error) {
	now := time.Now()
	a.mu.RLock()
	c, hit := a.cache[uuid]
	a.mu.RUnlock()
	if hit && now.Before(c.expires) {
		return c.subject, nil
	}
	subj, err := a.store.SubjectByUUID(ctx, uuid)
	if err != nil {
		return entity.Subject{}, fmt.Errorf("subject of key %s: %w", uuid, err)
	}
	a.mu.Lock()
	a.cache[uuid] = cachedSubject{subject: subj, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return subj, nil
}

// activationIdentity verifies an activation key: genuine, not expired,
// and of a namespace that still exists.
func (a *authenticator) activationIdentity(ctx context.Context, uuid, key string) (identity, error) {
	ns, err := a.keys.Verify(ctx, uuid, key, a.now())
	if errors.Is(err, actionkey.ErrInvalid) || errors.Is(err, actionkey.ErrExpired) {
		return identity{}, newError(http.StatusUnauthorized, msgBadAuth)
	}
	if err != nil {
		return identity{}, err
	}
	if _, err := a.owner(ctx, ns); errors.Is(err, store.ErrNotFound) {
		return identity{}, newError(http.StatusUnauthorized, msgBadAuth)
	} else if err != nil {
		return identity{}, err
	}
	return identity{Namespace: ns, Key: uuid + ":" + key, Activation: true}, nil
}

// owner returns the subject of namespace ns, cached like verified keys;
// store.ErrNotFound when there is none.
func (a *authenticator) owner(ctx context.Context, ns string) (entity.Subject, error) {
	now := time.Now()
	a.mu.RLock()
	c, hit := a.byNamespace[ns]
	a.mu.RUnlock()
	if hit && now.Before(c.expires) {
		return c.subject, nil
	}
	subj, err := a.store.Subject(ctx, ns)
	if err != nil {
		return entity.Subject{}, fmt.Errorf("subject of namespace %s: %w", ns, err)
	}
	a.mu.Lock()
	a.byNamespace[ns] = cachedSubject{subject: subj, expires: now.Add(a.ttl)}
	a.mu.Unlock()
	return subj, nil
}

// namespace resolves the {ns} path segment for the caller: "_" is the
// caller's own; another namespace is forbidden.
func (id identity) namespace(r *http.Request) (string, error) {
	ns := r.PathValue("ns")
	if ns == entity.DefaultNamespace || ns == id.Namespace {
		return id.Namespace, nil
	}
	return "", newError(http.StatusForbidden, "The supplied authentication is not authorized to access '"+ns+"'.")
}

// readNamespace resolves the {ns} path segment of reads and invokes of
// actions and packages, where another namespace is allowed: those handlers
// reach its entities only through routing.Resolver, whose routing.Entitled
// is the one access rule (published packages and their contents).
func (id identity) readNamespace(r *http.Request) string {
	if ns := r.PathValue("ns"); ns != entity.DefaultNamespace {
		return ns
	}
	return id.Namespace
}
