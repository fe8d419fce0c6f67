package broker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Config configures the embedded broker.
type Config struct {
	// Addr is the TCP listen address, host:port (port 0 picks one).
	Addr string
	// Users, when not empty, are the only accepted clients: username →
	// password. When empty any client may connect, without credentials;
	// keep Addr on loopback then.
	Users map[string]string
	// MaxPacketSize bounds an MQTT packet a client sends, in bytes; the
	// broker drops a client that sends a larger one. 0 means
	// DefaultMaxPacketSize.
	MaxPacketSize int
}

// DefaultMaxPacketSize is the feeds' payload limit (1 MB, OpenWhisk's
// parameter limit) and 64 KiB for the topic and properties: a larger
// publish could not fire a trigger anyway, and without a limit mochi
// reads packets up to MQTT's 256 MB from any client.
const DefaultMaxPacketSize = 1<<20 + 64<<10

// Broker is a running embedded broker.
type Broker struct {
	server    *mochi.Server
	addr      net.Addr
	closeOnce sync.Once
	closeErr  error // set by the first Close
}

// Start listens on cfg.Addr and serves MQTT until Close.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Broker, error) {
	log = log.With("component", "mqtt-broker")
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mqtt: listen on %s: %w", cfg.Addr, err)
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = uint32(DefaultMaxPacketSize)
	if cfg.MaxPacketSize > 0 {
		caps.MaximumPacketSize = uint32(min(int64(cfg.MaxPacketSize), math.MaxUint32))
	}
	server := mochi.New(&mochi.Options{InlineClient: false, Capabilities: caps, Logger: slog.New(warnOnly{log.Handler()})})
	if err := server.AddHook(authHook(cfg.Users)); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("mqtt: add the auth hook: %w", err)
	}
	if err := server.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("mqtt: add the listener on %s: %w", ln.Addr(), err)
	}
	if err := server.Serve(); err != nil {
		_ = server.Close()
		return nil, fmt.Errorf("mqtt: serve on %s: %w", ln.Addr(), err)
	}
	if len(cfg.Users) == 0 && !isLoopback(ln.Addr()) {
		log.Warn("the embedded MQTT broker accepts anonymous clients on a non-loopback address", "addr", ln.Addr().String())
	}
	log.Info("embedded MQTT broker is serving", "addr", ln.Addr().String(), "anonymous", len(cfg.Users) == 0)
	return &Broker{server: server, addr: ln.Addr()}, nil
}

// Addr is the address the broker listens on.
func (b *Broker) Addr() net.Addr { return b.addr }

// URL is the broker's address as the mqtt feed's url parameter wants it:
// tcp://HOST:PORT.
func (b *Broker) URL() string { return "tcp://" + b.addr.String() }

// Close disconnects every client and stops listening. Later calls do
// nothing.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		if err := b.server.Close(); err != nil {
			b.closeErr = fmt.Errorf("mqtt: close the embedded broker: %w", err)
		}
	})
	return b.closeErr
}

// authHook returns the hook that lets clients in: everyone, or the
// listed users with their passwords (allowed every topic).
func authHook(users map[string]string) (mochi.Hook, any) {
	if len(users) == 0 {
		return new(auth.AllowHook), nil
	}
	ledger := &auth.Ledger{}
	for name, password := range users {
		ledger.Auth = append(ledger.Auth, auth.AuthRule{
			Username: auth.RString(name),
			Password: auth.RString(password),
			Allow:    true,
		})
	}
	return new(auth.Hook), &auth.Options{Ledger: ledger}
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// warnOnly passes on mochi's warnings and errors only: its info lines
// (hook added, listener attached, started) repeat what Start logs.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{h.Handler.WithAttrs(attrs)}
}

func (h warnOnly) WithGroup(name string) slog.Handler { return warnOnly{h.Handler.WithGroup(name)} }
