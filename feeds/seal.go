package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/wispio/wisp/internal/secrets"
	"github.com/wispio/wisp/store"
)

// What a registration keeps sealed in the store (Config.Secrets): the
// caller's authKey, the State a Registerer returned (webhook secrets), and
// every parameter that holds a credential (the parameters its provider
// declares Secret or does not declare, see secretParam; URLs with a
// password). Each sealed value is bound to its registration's key and
// field. In memory the registration stays in the clear.

// sealContext binds a sealed value to where it is stored.
func sealContext(key, field string) string { return "feeds/" + key + "/" + field }

// putRecord stores doc under key, its secrets sealed.
func (m *Manager) putRecord(ctx context.Context, key, rev string, doc record) (string, error) {
	sealed, err := m.sealRecord(key, doc)
	if err != nil {
		return "", err
	}
	return store.PutDoc(ctx, m.store, SystemNamespace, store.Feeds, key, rev, sealed)
}

// sealRecord returns doc as stored: its secrets sealed (without a Box, as
// it is).
func (m *Manager) sealRecord(key string, doc record) (record, error) {
	box := m.cfg.Secrets
	if box == nil {
		return doc, nil
	}
	var err error
	if len(doc.State) > 0 {
		if doc.State, err = sealJSON(box, doc.State, sealContext(key, "state")); err != nil {
			return record{}, err
		}
	}
	doc.Params = maps.Clone(doc.Params)
	decl := m.declaredParams(doc.Registration)
	for k, v := range doc.Params {
		if sealedParam(decl, k, v) {
			if doc.Params[k], err = sealJSON(box, v, sealContext(key, "params/"+k)); err != nil {
				return record{}, err
			}
		}
	}
	return doc, nil
}

// sealedParam reports whether a parameter is stored sealed: a credential,
// or a value that looks sealed itself (so that every sealed-looking value
// in the store is one Wisp sealed).
func sealedParam(decl Params, name string, v json.RawMessage) bool {
	return secretParam(decl, name) || urlWithPassword(v) || isSealedJSON(v)
}

func sealJSON(box *secrets.Box, v json.RawMessage, context string) (json.RawMessage, error) {
	s, err := box.Seal(v, context)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

func isSealedJSON(v json.RawMessage) bool {
	var s string
	return json.Unmarshal(v, &s) == nil && secrets.IsSealed(s)
}

// openRecord opens the sealed values of doc, stored under key, in place.
// It reports whether doc holds secrets in the clear that a Box would seal
// (a record written before encryption, to be written again). A value sealed
// under another key answers *secrets.WrongKeyError.
func (m *Manager) openRecord(key string, doc *record) (clear bool, err error) {
	box := m.cfg.Secrets
	open := func(v json.RawMessage, field string) (json.RawMessage, error) {
		var s string
		_ = json.Unmarshal(v, &s)
		if box == nil {
			return nil, fmt.Errorf("feed registration %s: %s is sealed, and this server has no secret key", key, field)
		}
		plain, err := box.Open(s, sealContext(key, field))
		if err != nil {
			return nil, fmt.Errorf("feed registration %s: %s: %w", key, field, err)
		}
		return plain, nil
	}
	if isSealedJSON(doc.State) {
		if doc.State, err = open(doc.State, "state"); err != nil {
			return false, err
		}
	} else if len(doc.State) > 0 {
		clear = true
	}
	decl := m.declaredParams(doc.Registration)
	for k, v := range doc.Params {
		switch {
		case isSealedJSON(v):
			if doc.Params[k], err = open(v, "params/"+k); err != nil {
				return false, err
			}
		case sealedParam(decl, k, v):
			clear = true
		}
	}
	return clear && box != nil, nil
}

// openStored opens a stored registration in place and, when it held
// secrets in the clear, writes it again sealed; it returns the record's
// revision. A registration that cannot be opened stops the start: it means
// the wrong secret key (or a tampered store), which the operator must fix.
func (m *Manager) openStored(ctx context.Context, key, rev string, doc *record) (string, error) {
	clear, err := m.openRecord(key, doc)
	if err != nil {
		return "", fmt.Errorf("load feed registrations: %w", err)
	}
	if !clear {
		return rev, nil
	}
	newRev, err := m.putRecord(ctx, key, rev, *doc)
	if err != nil {
		return "", fmt.Errorf("seal the secrets of feed registration %s: %w", key, err)
	}
	m.log.Info("sealed the secrets of a feed registration stored in the clear", "trigger", key)
	return newRev, nil
}
