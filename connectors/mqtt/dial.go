package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/gorilla/websocket"

	"github.com/wispio/wisp/egress"
)

// openConnection is paho's CustomOpenConnectionFn: it opens the network
// connection of every scheme through the egress policy's dialer, so that
// each resolved address is checked before it is connected (paho's own
// opener ignores a dialer for ws and wss), and bounds the packets read
// from it to maxPacket.
func (p *Provider) openConnection(uri *url.URL, opts paho.ClientOptions) (net.Conn, error) {
	c, err := p.dial(uri, opts)
	if err != nil {
		return nil, err
	}
	return &packetLimitConn{Conn: c, max: maxPacket}, nil
}

// dial opens the connection of uri's scheme.
func (p *Provider) dial(uri *url.URL, opts paho.ClientOptions) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opts.ConnectTimeout)
	defer cancel()
	dialer := p.cfg.Egress.Dialer()
	switch uri.Scheme {
	case "tcp", "mqtt":
		return dialer.DialContext(ctx, "tcp", uri.Host)
	case "ssl", "tls", "mqtts":
		return (&tls.Dialer{NetDialer: dialer, Config: opts.TLSConfig}).DialContext(ctx, "tcp", uri.Host)
	case "ws", "wss":
		ws := &websocket.Dialer{
			NetDialContext:   dialer.DialContext,
			TLSClientConfig:  opts.TLSConfig,
			HandshakeTimeout: opts.ConnectTimeout,
			Subprotocols:     []string{"mqtt"},
		}
		u := *uri
		u.User = nil
		c, resp, err := ws.DialContext(ctx, u.String(), opts.HTTPHeaders)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			return nil, err
		}
		return &wsConn{Conn: c}, nil
	}
	return nil, fmt.Errorf("scheme %q is not one of tcp, mqtt, ssl, tls, mqtts, ws, wss", uri.Scheme)
}

// wsConn is a WebSocket as the byte stream paho reads and writes: each
// Write one binary message, Reads across messages.
type wsConn struct {
	*websocket.Conn
	rmu sync.Mutex // guards r and reading
	r   io.Reader  // the message being read; nil between messages
	wmu sync.Mutex // one writer at a time
}

func (c *wsConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			_, r, err := c.NextReader()
			if err != nil {
				return 0, err
			}
			c.r = r
		}
		n, err := c.r.Read(b)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// connectError says why a connection or request failed without anything
// the far end sent: a denial is the policy's error itself; a broker's
// refusal is paho's fixed wording of its return code ("bad user name or
// password", "not Authorized"); a network failure one of egress.Explain's
// phrases.
func connectError(err error) error {
	var denied *egress.DeniedError
	var tooLarge *packetTooLargeError
	switch {
	case errors.As(err, &denied):
		return denied
	case errors.As(err, &tooLarge):
		return tooLarge
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("no answer in time")
	case errors.Is(err, packets.ErrorNetworkError):
		return errors.New(egress.Explain(err))
	}
	for _, known := range packets.ConnErrors {
		if known != nil && errors.Is(err, known) {
			return known
		}
	}
	return errors.New(egress.Explain(err))
}

// brokerError is the error of a failed connection to the broker at url:
// exactly the policy's message when the policy denied it.
func brokerError(url string, err error) error {
	err = connectError(err)
	if _, denied := err.(*egress.DeniedError); denied {
		return &paramError{msg: err.Error()}
	}
	return invalidf("url: cannot connect to the broker at %s: %v", url, err)
}
