// Package secrets seals values that Wisp must keep but must not store in
// the clear (a feed's API key, its credential parameters): AES-256-GCM
// under one key, held in a file (the data folder's secret.key, created 0600
// at first start, or an operator's --secret-key-file). The main type is
// Box. It does not rotate keys: a value sealed under another key is
// refused with a *WrongKeyError naming both keys' ids.
package secrets
