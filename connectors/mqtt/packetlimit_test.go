package mqtt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/wispio/wisp/connectors/mqtt/broker"
	"github.com/wispio/wisp/feeds/feedstest"
)

// header is an MQTT fixed header: a PUBLISH with remaining length n.
func header(n int) []byte {
	b := []byte{0x30}
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// packet is a PUBLISH of n bytes after its fixed header.
func packet(n int) []byte { return append(header(n), bytes.Repeat([]byte{'p'}, n)...) }

// TestPacketLimitConn: reading through packetLimitConn passes packets
// within the limit byte for byte, however the reads split them, and fails
// at the fixed header of one over it: never a byte of its body (of the
// header, what came in earlier reads).
func TestPacketLimitConn(t *testing.T) {
	const limit = 1000
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tt := range []struct {
		name   string
		stream []byte
		upto   int // the most bytes read before the error: the stream up to the body of the packet over the limit
		tooBig bool
	}{
		{"small packets", cat(packet(0), packet(10), packet(127), packet(128), packet(limit)), -1, false},
		{"one over the limit", cat(packet(10), header(limit+1), []byte("body")), len(packet(10)) + len(header(limit+1)), true},
		{"a header announcing 256 MB", cat(packet(3), header(256<<20-1)), len(packet(3)) + len(header(256<<20-1)), true},
		{"a malformed length", cat(packet(3), []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}), len(packet(3)) + 5, true},
	} {
		for _, chunk := range []int{1, 7, 4096} {
			t.Run(tt.name, func(t *testing.T) {
				client, server := net.Pipe()
				go func() {
					for s := tt.stream; len(s) > 0; {
						n := min(chunk, len(s))
						if _, err := server.Write(s[:n]); err != nil {
							return
						}
						s = s[n:]
					}
					server.Close()
				}()
				c := &packetLimitConn{Conn: client, max: limit}
				got, err := io.ReadAll(c)
				var tl *packetTooLargeError
				if tt.tooBig != errors.As(err, &tl) || !tt.tooBig && err != nil {
					t.Fatalf("chunks of %d: err = %v, want too large %v", chunk, err, tt.tooBig)
				}
				want := tt.stream
				if tt.upto >= 0 {
					want = tt.stream[:tt.upto]
				}
				if len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) || !tt.tooBig && len(got) != len(want) {
					t.Fatalf("chunks of %d: read %d bytes, want at most the %d before the body over the limit", chunk, len(got), len(want))
				}
			})
		}
	}
}

// TestFeedRefusesLargePackets: a broker that forwards a publish larger
// than the feed's packet limit has the feed drop the connection and say
// so, instead of reading the packet (paho reads up to MQTT's 256 MB).
func TestFeedRefusesLargePackets(t *testing.T) {
	b, err := broker.Start(context.Background(), broker.Config{Addr: "127.0.0.1:0", MaxPacketSize: 16 << 20}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	topic := uniqueTopic(t)
	sink := feedstest.NewSink()
	startFeed(t, testProvider(), "/ns/big", map[string]any{"url": b.URL(), "topic": topic + "/#"}, sink)
	publish(t, publisher(t, b.URL()), topic+"/big", 0, false, bytes.Repeat([]byte("x"), 3<<20))
	err = sink.WaitReport(t, false)
	if !strings.Contains(err.Error(), "over the limit of") {
		t.Fatalf("the feed reported %v, want the packet refused", err)
	}
	for _, ev := range sink.Events() {
		if len(ev.Payload) > 1<<20 {
			t.Fatalf("the feed delivered a payload of %d bytes", len(ev.Payload))
		}
	}
}

// FuzzPacketLimitConn: whatever a broker sends, packetLimitConn hands on
// a prefix of it, all of it when it reports no error.
func FuzzPacketLimitConn(f *testing.F) {
	f.Add(packet(10), uint8(3))
	f.Add(append(packet(3), header(1<<20)...), uint8(1))
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		c := &packetLimitConn{Conn: &chunkConn{data: stream, chunk: int(chunk%16) + 1}, max: 100}
		got, err := io.ReadAll(c)
		if !bytes.HasPrefix(stream, got) || err == nil && len(got) != len(stream) {
			t.Fatalf("read %d of %d bytes (err %v), not a prefix", len(got), len(stream), err)
		}
	})
}

// chunkConn is a net.Conn whose reads return data chunk bytes at a time.
type chunkConn struct {
	net.Conn
	data  []byte
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkConn) Close() error { return nil }
