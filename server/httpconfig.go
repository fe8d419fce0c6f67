package server

import (
	"fmt"
	"net/http"
	"time"
)

// HTTPConfig bounds what one client connection may hold of the HTTP
// server: how long it may take to send its headers and its body, how long a
// kept-alive connection may idle, how long an answer may take, how large
// its headers may be. A slow or idle client is disconnected instead of
// holding a connection (and its goroutine) forever.
type HTTPConfig struct {
	// ReadHeaderTimeout bounds the reading of a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included.
	// It must exceed the API's blocking wait: Go cancels a request's
	// context when the read deadline passes while its handler runs.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from its headers to the end of its
	// answer; 0 is none. When set it must exceed the blocking wait, so that
	// a blocking invoke keeps its 60 s.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the size of a request's headers.
	MaxHeaderBytes int
}

// DefaultHTTPConfig returns the defaults of `wisp serve`.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Validate checks c against the API's blocking wait; messages name the
// flags of `wisp serve`.
func (c HTTPConfig) Validate(blockingWait time.Duration) error {
	switch {
	case c.ReadHeaderTimeout <= 0:
		return fmt.Errorf("http-read-header-timeout: %s must be positive", c.ReadHeaderTimeout)
	case c.ReadTimeout <= blockingWait:
		return fmt.Errorf("http-read-timeout: %s must exceed the blocking invoke wait of %s", c.ReadTimeout, blockingWait)
	case c.WriteTimeout < 0 || c.WriteTimeout > 0 && c.WriteTimeout <= blockingWait:
		return fmt.Errorf("http-write-timeout: %s must be 0 (none) or exceed the blocking invoke wait of %s", c.WriteTimeout, blockingWait)
	case c.IdleTimeout <= 0:
		return fmt.Errorf("http-idle-timeout: %s must be positive", c.IdleTimeout)
	case c.MaxHeaderBytes < 4<<10:
		return fmt.Errorf("http-max-header-bytes: %d must be at least 4096", c.MaxHeaderBytes)
	}
	return nil
}

// newServer returns the HTTP server of h with c's bounds.
func (c HTTPConfig) newServer(h http.Handler, blockingWait time.Duration) (*http.Server, error) {
	if err := c.Validate(blockingWait); err != nil {
		return nil, err
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}, nil
}
