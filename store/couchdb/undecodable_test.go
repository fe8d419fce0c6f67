package couchdb

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
)

// fakeCouch answers the requests of a list as a CouchDB server holding
// three documents, the second nesting past encoding/json's depth (as a
// real CouchDB keeps one written before Wisp had limits; pouchdb-server
// refuses to store it, so the conformance suite cannot make one there).
func fakeCouch(t *testing.T) *httptest.Server {
	docs := map[string]string{
		"actions/ns/1": `{"_id":"actions/ns/1","activationId":"1","_rev":"1-a","namespace":"ns","name":"a","start":3,"doc":{"v":1}}`,
		"actions/ns/2": `{"_id":"actions/ns/2","activationId":"2","_rev":"1-b","namespace":"ns","name":"a","start":2,"doc":` + strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001) + `}`,
		"actions/ns/3": `{"_id":"actions/ns/3","activationId":"3","_rev":"1-c","namespace":"ns","name":"a","start":1,"doc":{"v":3}}`,
	}
	order := []string{"actions/ns/1", "actions/ns/2", "actions/ns/3"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2) // database, document id
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/_view/by_start") || strings.HasSuffix(r.URL.Path, "/_all_docs"):
			withDocs := r.URL.Query().Get("include_docs") == "true"
			var rows []string
			for _, id := range order {
				row := fmt.Sprintf(`{"id":%q,"key":%q,"value":null`, id, id)
				if withDocs {
					row += `,"doc":` + docs[id]
				}
				rows = append(rows, row+"}")
			}
			fmt.Fprintf(w, `{"total_rows":3,"offset":0,"rows":[%s]}`, strings.Join(rows, ","))
		case len(parts) == 2 && docs[parts[1]] != "":
			_, _ = io.WriteString(w, docs[parts[1]])
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestListsSkipUndecodableRecords: a document that breaks the stream of
// rows does not fail ListActivations nor List: they read the documents
// one by one, skip it, log it and count it.
func TestListsSkipUndecodableRecords(t *testing.T) {
	srv := fakeCouch(t)
	client, err := couch.Connect(srv.URL, couch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{client: client, activations: client.DB("acts"), entities: client.DB("ents"), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	acts, err := s.ListActivations(t.Context(), "ns", store.ActivationFilter{})
	if err != nil {
		t.Fatalf("ListActivations with an undecodable record: %v", err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, a.ActivationID)
	}
	if !slices.Equal(got, []string{"1", "3"}) {
		t.Fatalf("ListActivations = %q, want [1 3]", got)
	}
	recs, err := s.List(t.Context(), "ns", store.Actions, store.ListOptions{})
	if err != nil {
		t.Fatalf("List with an undecodable record: %v", err)
	}
	if len(recs) != 2 || string(recs[0].Doc) != `{"v":1}` || string(recs[1].Doc) != `{"v":3}` {
		t.Fatalf("List = %+v, want the documents 1 and 3", recs)
	}
	if n := s.Undecodable(); n != 2 {
		t.Errorf("Undecodable = %d, want 2 (one per list)", n)
	}
}
