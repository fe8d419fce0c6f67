package couchdb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-kivik/kivik/v4"

	"github.com/wispio/wisp/actions/builtin"
	"github.com/wispio/wisp/feeds"
	"github.com/wispio/wisp/internal/couch"
)

// Actions adds the system actions read, write and query to the catalogue
// package /whisk.system/couchdb. Each takes url (or host), username,
// password and dbname, like the feed, plus its own parameters:
//   - read: docid (or id) and params, CouchDB's GET document options
//     ({"rev": ...}); returns the document.
//   - write: doc, an object (or a JSON string), and overwrite: with
//     overwrite true, a doc whose _id exists replaces the current revision;
//     otherwise such a write fails with a conflict. Returns {ok, id, rev}.
//   - query: query, a Mango query ({"selector": ..., "fields", "sort",
//     "limit", ...}), or selector alone; returns {"docs": [...]}.
//
// Their connections pass the provider's egress policy.
func (p *Provider) Actions() []feeds.Action {
	return []feeds.Action{
		{Name: "read", Description: "Reads a document: url, username, password, dbname, docid, params", Func: p.runAction(read)},
		{Name: "write", Description: "Writes a document: url, username, password, dbname, doc, overwrite", Func: p.runAction(write)},
		{Name: "query", Description: "Queries documents with a Mango query: url, username, password, dbname, query or selector", Func: p.runAction(query)},
	}
}

// actionFunc is an action's work once its database is open.
type actionFunc func(ctx context.Context, db *kivik.DB, p params, srv server) (any, error)

// runAction wraps fn into a builtin.Func: it decodes the parameters, opens
// the database and encodes the result.
func (p *Provider) runAction(fn actionFunc) builtin.Func {
	return func(ctx context.Context, call builtin.Call) (json.RawMessage, error) {
		prm, err := decodeParams(call.Params)
		if err != nil {
			return nil, builtin.Errorf("%v", err)
		}
		srv, err := parseServer(prm)
		if err != nil {
			return nil, userError(err)
		}
		client, err := p.connect(srv, 0)
		if err != nil {
			return nil, userError(err)
		}
		defer client.Close()
		out, err := fn(ctx, client.DB(srv.dbname), prm, srv)
		if err != nil {
			return nil, userError(err)
		}
		res, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encode the result: %w", err)
		}
		return res, nil
	}
}

// userError turns an error into the activation's error message.
func userError(err error) error { return builtin.Errorf("%v", err) }

func read(ctx context.Context, db *kivik.DB, p params, srv server) (any, error) {
	id, err := p.str("docid")
	if err == nil && id == "" {
		id, err = p.str("id")
	}
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("docid", "is required")
	}
	opts, err := p.object("params")
	if err != nil {
		return nil, err
	}
	var getOpts map[string]any
	if opts != nil {
		if err := json.Unmarshal(opts, &getOpts); err != nil {
			return nil, invalid("params", "must be a JSON object")
		}
	}
	var doc json.RawMessage
	if err := db.Get(ctx, id, kivik.Params(getOpts)).ScanDoc(&doc); err != nil {
		if couch.Status(err) == http.StatusNotFound {
			return nil, invalid("docid", "%q: no such document in %s", id, srv.dbname)
		}
		return nil, explain(srv, err)
	}
	return doc, nil
}

func write(ctx context.Context, db *kivik.DB, p params, srv server) (any, error) {
	raw, err := p.object("doc")
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, invalid("doc", "is required")
	}
	overwrite, err := p.boolean("overwrite")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, invalid("doc", "must be a JSON object")
	}
	id, _ := doc["_id"].(string)
	if id == "" {
		id, rev, err := db.CreateDoc(ctx, doc)
		if err != nil {
			return nil, explain(srv, err)
		}
		return map[string]any{"ok": true, "id": id, "rev": rev}, nil
	}
	for range maxOverwrites {
		if overwrite {
			var cur struct {
				Rev string `json:"_rev"`
			}
			switch err := db.Get(ctx, id).ScanDoc(&cur); {
			case err == nil:
				doc["_rev"] = cur.Rev
			case couch.Status(err) != http.StatusNotFound:
				return nil, explain(srv, err)
			}
		}
		rev, err := db.Put(ctx, id, doc)
		if couch.Status(err) == http.StatusConflict {
			if overwrite {
				continue // written meanwhile: overwrite the newer revision
			}
			return nil, invalid("doc", "document %q exists in %s (set overwrite to true to replace it)", id, srv.dbname)
		}
		if err != nil {
			return nil, explain(srv, err)
		}
		return map[string]any{"ok": true, "id": id, "rev": rev}, nil
	}
	return nil, fmt.Errorf("document %q of %s kept changing: gave up after %d attempts", id, srv.dbname, maxOverwrites)
}

// maxOverwrites bounds the attempts of an overwriting write that other
// writers keep beating.
const maxOverwrites = 5

func query(ctx context.Context, db *kivik.DB, p params, srv server) (any, error) {
	q, err := p.object("query")
	if err != nil {
		return nil, err
	}
	if q == nil {
		sel, err := p.object("selector")
		if err != nil {
			return nil, err
		}
		if sel == nil {
			return nil, invalid("query", "is required (a Mango query like {\"selector\": {...}}), or give selector")
		}
		q = json.RawMessage(`{"selector":` + string(sel) + `}`)
	}
	docs := []json.RawMessage{}
	rows := db.Find(ctx, q)
	defer rows.Close()
	for rows.Next() {
		var d json.RawMessage
		if err := rows.ScanDoc(&d); err != nil {
			return nil, fmt.Errorf("query %s: a result is not a JSON document", srv.dbname)
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		if couch.Status(err) == http.StatusBadRequest {
			return nil, invalid("query", "was refused by the server (HTTP status 400)")
		}
		return nil, explain(srv, err)
	}
	return map[string]any{"docs": docs}, nil
}
