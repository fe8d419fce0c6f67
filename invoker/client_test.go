package invoker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/entity"
)

// TestContainerAnswerIsBounded: a container answering /run with more than
// the result limit gets OpenWhisk's developer error naming the size, and
// the invoker reads no more than the limit: its heap stays flat while the
// container streams 300 MB.
func TestContainerAnswerIsBounded(t *testing.T) {
	const limit = 1 << 20
	chunk := []byte(strings.Repeat("x", 64<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(proxy.SecretHeader) != "s3cret" {
			http.Error(w, "no secret", http.StatusForbidden)
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		if r.URL.Query().Get("length") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n<<20))
		}
		for range n << 20 / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := newContainerClient()
	for _, tt := range []struct {
		query string
		want  string
	}{
		{"mb=2&length=1", "The action produced a response that exceeded the allowed length: 2097152 > 1048576 bytes."},
		{"mb=300", "The action produced a response that exceeded the allowed length: 1048577 > 1048576 bytes."},
	} {
		t.Run(tt.query, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rep, err := c.post(context.Background(), srv.URL+"/run?"+tt.query, "s3cret", []byte(`{}`), limit)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.body) != limit+1 {
				t.Fatalf("read %d bytes, want the limit + 1", len(rep.body))
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
				t.Fatalf("reading the answer allocated %d MB", grew>>20)
			}
			r := runResponse(rep, limit)
			var result struct{ Error string }
			_ = json.Unmarshal(r.Result, &result)
			if r.StatusCode != entity.StatusDeveloperError || result.Error != tt.want {
				t.Fatalf("response = %+v %s, want %q", r, r.Result, tt.want)
			}
		})
	}
}
