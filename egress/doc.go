// Package egress is the policy on the outbound connections Wisp makes
// inside its own process on a tenant's behalf (builtin actions and feeds:
// slack, couchdb, mqtt, github). A Policy is checked at dial time on the
// resolved address (a net.Dialer Control func), so a host name that
// resolves, or later re-resolves, to a denied address is refused too.
// By default it denies loopback, link-local, private, shared (CGNAT),
// multicast and reserved ranges, and the addresses of Wisp's own store
// and bus; an operator's allow list opens prefixes. It does not govern
// the connections Wisp makes for itself (store, bus, containers) nor
// what action containers reach.
package egress
