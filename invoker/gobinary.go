package invoker

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/wispio/wisp/actions/proxy"
	"github.com/wispio/wisp/entity"
)

// Go source actions are compiled at /init inside their container. After a
// container compiled one, the invoker reads the executable back (GET
// proxy.BinaryPath) and keeps it in a goBinaries cache, keyed by the
// action's namespace, kind and a digest of everything the build depends on
// (code, main, init parameters); the action's next containers get /init
// with that executable as a binary, which the Go runtime runs as it is.
// The cache lives in the invoker, so one tenant cannot plant a binary for
// another: a namespace only ever receives what its own code built.

// Bounds of the Go binary cache.
const (
	// maxGoBinary is the largest executable kept; its base64 must fit the
	// proxy's /init body limit.
	maxGoBinary = 24 << 20
	// DefaultGoBinaryCacheBytes bounds the cache's total size.
	DefaultGoBinaryCacheBytes = 128 << 20
)

// GoBinaryStats counts the Go binary cache's use.
type GoBinaryStats struct {
	// Hits are cold starts that got a cached executable, not sources.
	Hits int64
	// Stores are executables read back from a container and kept.
	Stores int64
	// Entries and Bytes are what the cache holds now.
	Entries int
	Bytes   int64
}

// goBinaries is an LRU cache of compiled Go executables by goBinaryKey.
type goBinaries struct {
	max int64

	mu    sync.Mutex // guards everything below
	ll    *list.List // of *goBinary, most recently used first
	byKey map[string]*list.Element
	stats GoBinaryStats
}

type goBinary struct {
	key string
	exe []byte
}

func newGoBinaries(maxBytes int64) *goBinaries {
	if maxBytes <= 0 {
		maxBytes = DefaultGoBinaryCacheBytes
	}
	return &goBinaries{max: maxBytes, ll: list.New(), byKey: map[string]*list.Element{}}
}

// goBinaryKey is the cache key of a's build in namespace ns, or "" when a
// is no Go action.
func goBinaryKey(ns string, a *entity.Action, apiHost string) string {
	if !strings.HasPrefix(a.Exec.Kind, "go:") {
		return ""
	}
	h := sha256.Sum256(initBody(a, apiHost))
	return ns + "\x00" + a.Exec.Kind + "\x00" + hex.EncodeToString(h[:])
}

// get returns the executable under key, or nil.
func (c *goBinaries) get(key string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(e)
	c.stats.Hits++
	return e.Value.(*goBinary).exe
}

// put keeps exe under key, evicting the least recently used executables
// beyond the cache's bound.
func (c *goBinaries) put(key string, exe []byte) {
	if int64(len(exe)) > c.max || len(exe) > maxGoBinary {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.stats.Bytes -= int64(len(e.Value.(*goBinary).exe))
		c.ll.Remove(e)
		c.stats.Entries--
	}
	c.byKey[key] = c.ll.PushFront(&goBinary{key, exe})
	c.stats.Bytes += int64(len(exe))
	c.stats.Entries++
	c.stats.Stores++
	for c.stats.Bytes > c.max {
		old := c.ll.Back()
		b := old.Value.(*goBinary)
		c.ll.Remove(old)
		delete(c.byKey, b.key)
		c.stats.Bytes -= int64(len(b.exe))
		c.stats.Entries--
	}
}

func (c *goBinaries) snapshot() GoBinaryStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// GoBinaries reports the use of the Go binary cache.
func (inv *Invoker) GoBinaries() GoBinaryStats { return inv.goBins.snapshot() }

// goInitBody is the /init body for a cold container of a: the cached
// executable under key when there is one (hit true), else initBody.
func (inv *Invoker) goInitBody(a *entity.Action, key string) (body []byte, hit bool) {
	if key == "" {
		return initBody(a, inv.cfg.APIHost), false
	}
	exe := inv.goBins.get(key)
	if exe == nil {
		return initBody(a, inv.cfg.APIHost), false
	}
	withExe := *a
	withExe.Exec.Code = base64.StdEncoding.EncodeToString(exe)
	withExe.Exec.Binary = true
	return initBody(&withExe, inv.cfg.APIHost), true
}

// keepGoBinary reads the executable a container compiled at /init and
// caches it under key; a container that compiled nothing (it was given a
// binary) answers 404 and nothing is kept.
func (inv *Invoker) keepGoBinary(ctx context.Context, c Container, key string) error {
	exe, err := inv.client.get(ctx, c.URL()+proxy.BinaryPath, containerSecret(c), maxGoBinary)
	if err != nil || exe == nil {
		return err
	}
	inv.goBins.put(key, exe)
	return nil
}

// get fetches url with the container's secret; nil without error when the
// container answers 404 or the body is over limit.
func (c *containerClient) get(ctx context.Context, url, secret string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	if secret != "" {
		req.Header.Set(proxy.SecretHeader, secret)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength > limit {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, nil
	}
	return b, nil
}
