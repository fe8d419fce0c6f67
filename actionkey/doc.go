// Package actionkey mints and verifies activation keys: the credentials
// handed to actions annotated provide-api-key instead of their caller's own
// key. An activation key has OpenWhisk's "uuid:key" form, acts only as the
// namespace the activation runs for and only until the activation's
// deadline plus Grace. It is stateless: the uuid carries the namespace,
// the activation id and the expiry, the key is their HMAC under a secret
// kept in the store (shared by every node of a cluster). It does not
// authorise anything itself; the API's authenticator asks it. Main type:
// Keys.
package actionkey
