package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/wispio/wisp/internal/couch"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/couchdb"
)

// Where a CouchDB store's credentials come from, as errors name them.
const (
	flagStore            = "--store"
	flagStoreCredentials = "--store-credentials-file"
	envStorePassword     = "WISP_STORE_PASSWORD"
)

// openCouchDB opens the CouchDB store at cfg.StoreURL with the credentials
// cfg gives (storeCredentials); a refusal says where they came from.
func openCouchDB(ctx context.Context, cfg Config) (store.Store, error) {
	user, password, from, err := storeCredentials(cfg)
	if err != nil {
		return nil, err
	}
	st, err := couchdb.Open(ctx, cfg.StoreURL, couchdb.Options{Username: user, Password: password})
	if err != nil && couch.Status(err) == http.StatusUnauthorized {
		if from == "" {
			return nil, fmt.Errorf("the store requires credentials: give them in %s (couchdb://USER:PASSWORD@HOST:5984), %s or %s: %w", flagStore, flagStoreCredentials, envStorePassword, err)
		}
		return nil, fmt.Errorf("the store refused the credentials of %s: %w", from, err)
	}
	return st, err
}

// storeCredentials returns the CouchDB user and password cfg gives apart
// from the store URL, and where they came from: StoreCredentialsFile (one
// line USER:PASSWORD), or StorePassword for the user the URL names
// (couchdb://USER@HOST:5984). Empty user: the URL's own credentials, or
// none (from then says whether the URL had some). Credentials given in two
// places are an error.
func storeCredentials(cfg Config) (user, password, from string, err error) {
	u, err := url.Parse(cfg.StoreURL)
	if err != nil {
		u = &url.URL{} // couchdb.Open says what is wrong with it (and hides its password)
	}
	urlPassword := false
	if u.User != nil {
		_, urlPassword = u.User.Password()
	}
	switch {
	case cfg.StoreCredentialsFile != "" && u.User != nil:
		return "", "", "", fmt.Errorf("%s names a user and %s is set: give the store's credentials in one place", flagStore, flagStoreCredentials)
	case cfg.StoreCredentialsFile != "" && cfg.StorePassword != "":
		return "", "", "", fmt.Errorf("%s and %s are both set: give the store's credentials in one place", flagStoreCredentials, envStorePassword)
	case cfg.StoreCredentialsFile != "":
		user, password, err := readUserPassword(cfg.StoreCredentialsFile)
		if err != nil {
			return "", "", "", fmt.Errorf("%s %s: %w", flagStoreCredentials, cfg.StoreCredentialsFile, err)
		}
		return user, password, flagStoreCredentials + " " + cfg.StoreCredentialsFile, nil
	case cfg.StorePassword != "":
		if u.User == nil || u.User.Username() == "" || urlPassword {
			return "", "", "", fmt.Errorf("%s is set: %s must name the user without a password (couchdb://USER@HOST:5984)", envStorePassword, flagStore)
		}
		return u.User.Username(), cfg.StorePassword, envStorePassword + " for user " + u.User.Username(), nil
	case u.User != nil:
		return "", "", flagStore + " (couchdb://USER:PASSWORD@HOST)", nil
	}
	return "", "", "", nil
}

// readUserPassword reads a file holding one line USER:PASSWORD (a final
// line break is ignored). Its errors never repeat the file's content.
func readUserPassword(path string) (string, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	line := strings.TrimRight(string(data), "\r\n")
	clear(data)
	user, password, ok := strings.Cut(line, ":")
	if !ok || user == "" || strings.ContainsAny(line, "\r\n") {
		return "", "", fmt.Errorf("want one line USER:PASSWORD")
	}
	return user, password, nil
}
