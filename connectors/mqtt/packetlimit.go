package mqtt

import (
	"fmt"
	"net"
)

// maxPacket bounds an MQTT packet a broker may send a feed: the feeds'
// payload limit (1 MB, OpenWhisk's parameter limit) and 64 KiB for the
// topic and properties. paho reads a packet whole, whatever its fixed
// header announces (up to MQTT's 256 MB), and the broker is the tenant's
// choice.
const maxPacket = 1<<20 + 64<<10

// packetTooLargeError is a packet over packetLimitConn's limit.
type packetTooLargeError struct {
	size, limit int // size -1: a malformed remaining length
}

func (e *packetTooLargeError) Error() string {
	if e.size < 0 {
		return "the broker sent a packet with a malformed length"
	}
	return fmt.Sprintf("the broker sent a packet of %d bytes, over the limit of %d bytes", e.size, e.limit)
}

// packetLimitConn reads MQTT's packet framing as the bytes pass (a fixed
// header: a type byte, then the remaining length in one to four bytes of
// seven bits) and fails the read, and closes the connection, at the
// header of a packet longer than max, before its body. Its reader is
// paho's one reading goroutine.
type packetLimitConn struct {
	net.Conn
	max int

	phase  int // 0: at a type byte, 1: in the remaining length, 2: in a body
	length int // the remaining length read so far (phase 1)
	shift  int // its bits read so far
	body   int // the body bytes still to come (phase 2)
	err    error
}

func (c *packetLimitConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.Conn.Read(p)
	start := 0 // where the packet being framed starts in p
	for i := 0; i < n; {
		switch c.phase {
		case 0:
			start, c.phase, c.length, c.shift = i, 1, 0, 0
			i++
		case 1:
			d := p[i]
			i++
			c.length |= int(d&0x7f) << c.shift
			c.shift += 7
			switch {
			case c.length > c.max:
				return c.fail(start, &packetTooLargeError{size: c.length, limit: c.max})
			case d&0x80 != 0 && c.shift >= 28:
				return c.fail(start, &packetTooLargeError{size: -1})
			case d&0x80 == 0:
				c.body, c.phase = c.length, 2
				if c.body == 0 {
					c.phase = 0
				}
			}
		case 2:
			k := min(c.body, n-i)
			c.body -= k
			i += k
			if c.body == 0 {
				c.phase = 0
			}
		}
	}
	return n, err
}

// fail closes the connection and hands on the bytes before the packet
// that starts at start, the error from then on.
func (c *packetLimitConn) fail(start int, err error) (int, error) {
	c.err = err
	_ = c.Conn.Close()
	if start > 0 {
		return start, nil
	}
	return 0, err
}
