// Package feedstest is what every feed connector's tests share: Sink, a
// recording feeds.Sink that can be told to refuse deliveries, and Run, the
// conformance suite of feeds.Provider in the manner of bus/bustest and
// store/storetest. Each connector runs Run with its own hooks (valid
// parameters, a way to make its source emit an event), so that the feeds
// Manager can rely on the same contract from every provider: stable names,
// validation errors that name a field and repeat no secret, a Start that
// returns promptly, a Stop that ends the feed, and no event lost when the
// Sink refuses it.
package feedstest
