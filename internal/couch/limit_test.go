package couch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kivik/kivik/v4"
)

// TestAnswerLimits: a client with MaxBody or MaxLine stops reading an
// answer past them with a *TooLargeError (the server is whoever the
// tenant named); one within them reads as usual. A continuous changes
// feed is bounded per line, a document per answer.
func TestAnswerLimits(t *testing.T) {
	big := `{"_id":"big","_rev":"1-a","v":"` + strings.Repeat("v", 64<<10) + `"}`
	rows := strings.Repeat(`{"seq":"1","id":"a","changes":[{"rev":"1-a"}]}`+"\n", 2000) // 94 KB in short lines
	long := `{"seq":"1","id":"` + strings.Repeat("i", 64<<10) + `","changes":[{"rev":"1-a"}]}` + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/db/small":
			_, _ = w.Write([]byte(`{"_id":"small","_rev":"1-a"}` + "\n"))
		case "/db/big":
			_, _ = w.Write([]byte(big + "\n"))
		case "/db/_changes":
			if r.URL.Query().Get("since") == "long" {
				_, _ = w.Write([]byte(long))
			} else {
				_, _ = w.Write([]byte(rows))
			}
			w.(http.Flusher).Flush()
			<-r.Context().Done() // a continuous feed stays open
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	get := func(c *kivik.Client, id string) error {
		var doc map[string]any
		return c.DB("db").Get(ctx, id).ScanDoc(&doc)
	}
	// changes reads rows rows of the feed, which stays open.
	changes := func(c *kivik.Client, since string, rows int) error {
		ch := c.DB("db").Changes(ctx, kivik.Params(map[string]any{"feed": "continuous", "since": since}))
		defer ch.Close()
		for n := 0; n < rows && ch.Next(); n++ {
		}
		return ch.Err()
	}
	for _, tt := range []struct {
		name   string
		opts   Options
		do     func(*kivik.Client) error
		tooBig bool
	}{
		{"document within MaxBody", Options{MaxBody: 1 << 10}, func(c *kivik.Client) error { return get(c, "small") }, false},
		{"document over MaxBody", Options{MaxBody: 32 << 10}, func(c *kivik.Client) error { return get(c, "big") }, true},
		{"document over MaxLine", Options{MaxLine: 32 << 10}, func(c *kivik.Client) error { return get(c, "big") }, true},
		{"no limits", Options{}, func(c *kivik.Client) error { return get(c, "big") }, false},
		{"many short rows within MaxLine", Options{MaxLine: 1 << 10}, func(c *kivik.Client) error { return changes(c, "0", 2000) }, false},
		{"a row over MaxLine", Options{MaxLine: 32 << 10}, func(c *kivik.Client) error { return changes(c, "long", 1) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Connect(srv.URL, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = tt.do(c)
			var tl *TooLargeError
			if got := errors.As(err, &tl); got != tt.tooBig || !tt.tooBig && err != nil {
				t.Fatalf("err = %v, want too large %v", err, tt.tooBig)
			}
		})
	}
}
