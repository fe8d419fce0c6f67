package bus

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// InProcess is the bus of a single process: watermill's GoChannel. Every
// subscription of a topic receives every message, queue or not: in one
// process each queue has one consumer with one subscription.
type InProcess struct {
	*gochannel.GoChannel
}

// NewInProcess returns an in-process bus.
func NewInProcess() *InProcess {
	return &InProcess{gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024}, watermill.NopLogger{})}
}

// Queue returns the channel itself.
func (b *InProcess) Queue(context.Context, string, string, time.Duration) (message.Subscriber, error) {
	return b.GoChannel, nil
}

// Broadcast returns the channel itself.
func (b *InProcess) Broadcast() message.Subscriber { return b.GoChannel }

// Durable is false: nothing outlives the process.
func (b *InProcess) Durable() bool { return false }
