package bus_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/wispio/wisp/internal/testenv"
)

// operator is a NATS operator with a system account and one account
// allowed JetStream, as nsc would make them: the server trusts the
// operator and has the accounts' JWTs preloaded (resolver MEMORY).
type operator struct {
	config  string // nats-server configuration
	account nkeys.KeyPair
}

func newOperator(t *testing.T) *operator {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	opKey, err := nkeys.CreateOperator()
	must(err)
	opPub, err := opKey.PublicKey()
	must(err)
	opClaims := jwt.NewOperatorClaims(opPub)
	opClaims.Name = "wisp-test"
	opJWT, err := opClaims.Encode(opKey)
	must(err)
	// account makes an account signed by the operator: its keys, public
	// key and JWT.
	account := func(name string, limits jwt.JetStreamLimits) (nkeys.KeyPair, string, string) {
		t.Helper()
		kp, err := nkeys.CreateAccount()
		must(err)
		pub, err := kp.PublicKey()
		must(err)
		claims := jwt.NewAccountClaims(pub)
		claims.Name = name
		claims.Limits.JetStreamLimits = limits
		token, err := claims.Encode(opKey)
		must(err)
		return kp, pub, token
	}
	acct, acctPub, acctJWT := account("wisp", jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1})
	_, sysPub, sysJWT := account("SYS", jwt.JetStreamLimits{}) // JetStream needs the system account
	config := fmt.Sprintf("operator: %s\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %s\n  %s: %s\n}\n",
		opJWT, sysPub, acctPub, acctJWT, sysPub, sysJWT)
	return &operator{config: config, account: acct}
}

// creds returns a .creds file (user JWT and seed, as nsc writes them) of
// a new user of the account, expiring at expires (zero: never).
func (o *operator) creds(t *testing.T, dir, name string, expires time.Time) (path string, seed []byte) {
	t.Helper()
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ = user.Seed()
	claims := jwt.NewUserClaims(pub)
	claims.Name = name
	if !expires.IsZero() {
		claims.Expires = expires.Unix()
	}
	userJWT, err := claims.Encode(o.account)
	if err != nil {
		t.Fatal(err)
	}
	body, err := jwt.FormatUserConfig(userJWT, seed)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, name+".creds")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, seed
}

// TestNATSCredsFile: against a nats-server in operator mode (JWT
// authentication, the decentralised setup NATS recommends), the bus
// connects with a .creds file in --bus-credentials-file and runs
// JetStream on it; a user of another operator's account and an expired
// user are refused with an error naming the file; no seed shows in an
// error or a log line.
func TestNATSCredsFile(t *testing.T) {
	op := newOperator(t)
	url := testenv.NATSServer(t, op.config)
	dir := t.TempDir()
	good, goodSeed := op.creds(t, dir, "wisp", time.Time{})
	stranger, strangerSeed := newOperator(t).creds(t, dir, "stranger", time.Time{})
	expired, expiredSeed := op.creds(t, dir, "expired", time.Now().Add(-time.Hour))
	secrets := []string{string(goodSeed), string(strangerSeed), string(expiredSeed)}
	tests := []struct {
		name, file string
		wantErr    string // "" connects
	}{
		{"user of the account", good, ""},
		{"user of another operator", stranger, "refused the credentials of --bus-credentials-file"},
		{"expired user", expired, "refused the credentials of --bus-credentials-file"},
		{"no credentials", "", "requires credentials: give them in --bus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkConnect(t, url, tt.file, tt.wantErr, secrets) })
	}
}
