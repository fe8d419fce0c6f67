package bus

import (
	"strconv"

	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// DeliveredHeader is the metadata key under which NATS gives a received
// message's delivery count (JetStream's NumDelivered): 1 for the first
// delivery, more for a redelivery after a nack or after the consumer's ack
// wait expired. The embedded bus does not set it: it has no ack wait.
const DeliveredHeader = "Wisp-Delivered"

// Deliveries is m's delivery count from DeliveredHeader; ok is false when
// the bus did not say.
func Deliveries(m *message.Message) (n uint64, ok bool) {
	v := m.Metadata.Get(DeliveredHeader)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// ackReplyHeader is the metadata key under which a message received from
// NATS carries its JetStream ack subject, for InProgress.
const ackReplyHeader = "Wisp-Ack-Reply"

// countingUnmarshaler is watermill's JetStream unmarshaler, which also
// sets DeliveredHeader and ackReplyHeader.
type countingUnmarshaler struct{ wmjs.DefaultUnmarshaler }

func (u countingUnmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	m, err := u.DefaultUnmarshaler.Unmarshal(msg)
	if err != nil || m == nil {
		return m, err
	}
	if md, err := msg.Metadata(); err == nil {
		m.Metadata.Set(DeliveredHeader, strconv.FormatUint(md.NumDelivered, 10))
	}
	if r := msg.Reply(); r != "" {
		m.Metadata.Set(ackReplyHeader, r)
	}
	return m, nil
}
