package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wispio/wisp/actionkey"
	"github.com/wispio/wisp/client"
	"github.com/wispio/wisp/internal/testenv"
)

// keyProbeJS lists its namespace's actions through the API with the key
// it was given, and returns the key and what the API answered.
const keyProbeJS = `
const http = require('http');
function main() {
  const key = process.env.__OW_API_KEY;
  const url = new URL(process.env.__OW_API_HOST + '/api/v1/namespaces/_/actions');
  return new Promise((resolve) => {
    http.get(url, {auth: key}, (res) => {
      let b = '';
      res.on('data', (c) => b += c);
      res.on('end', () => resolve({key, status: res.statusCode, names: JSON.parse(b).map ? JSON.parse(b).map((a) => a.name) : b}));
    }).on('error', (e) => resolve({key, error: e.message}));
  });
}`

// TestProvideAPIKeyIsScoped: an action annotated provide-api-key gets an
// activation key, not its caller's own; the key lists the caller's
// actions through the API and reaches no other namespace.
func TestProvideAPIKeyIsScoped(t *testing.T) {
	srv, c := startServer(t, nil)
	ctx := context.Background()
	_, _, err := c.PutAction(ctx, &client.Action{
		Name: "keyprobe", Exec: &client.Exec{Kind: "nodejs:20", Code: keyProbeJS},
		Annotations: client.KeyValues{{Key: "provide-api-key", Value: true}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	act := invoke(t, c, "keyprobe", nil)
	var r struct {
		Key, Error string
		Status     int
		Names      []string
	}
	if err := json.Unmarshal(act.Response.Result, &r); err != nil || r.Error != "" {
		t.Fatalf("result %s: %v", act.Response.Result, err)
	}
	owner, err := srv.Store().Subject(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	uuid, _, _ := strings.Cut(r.Key, ":")
	if !actionkey.IsActivationKey(uuid) || uuid == owner.UUID {
		t.Fatalf("the action got key %q, want an activation key, not the caller's own", r.Key)
	}
	if r.Status != http.StatusOK || len(r.Names) != 1 || r.Names[0] != "keyprobe" {
		t.Fatalf("listing with the activation key: %d %v", r.Status, r.Names)
	}
	scoped := client.New(client.Config{APIHost: "http://" + srv.Addr(), Auth: r.Key})
	if _, _, err := scoped.ListActions(ctx, client.ActionListOptions{Namespace: "test"}); err != nil {
		t.Fatalf("the key does not list its own namespace by name: %v", err)
	}
	var ce *client.Error
	if _, _, err := scoped.ListActions(ctx, client.ActionListOptions{Namespace: "guest"}); !errors.As(err, &ce) || ce.StatusCode != http.StatusForbidden {
		t.Fatalf("listing another namespace with the activation key: %v, want 403", err)
	}
}

// isolationProbePy reports the user and capabilities it runs with and
// tries to read the store of the Wisp that runs it.
const isolationProbePy = `
import os
def main(args):
    out = {"uid": os.getuid()}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k == "CapEff":
            out["capEff"] = v.strip()
    try:
        open(args["db"], "rb").read(16)
        out["db"] = "read"
    except Exception as e:
        out["db"] = type(e).__name__
    out["cwd"] = os.getcwd()
    return out
`

// TestProcessBackendAsRootIsolated: on a root Wisp, an action cannot
// read the data folder's store, and runs as another user without
// capabilities.
func TestProcessBackendAsRootIsolated(t *testing.T) {
	testenv.Python(t)
	if os.Geteuid() != 0 {
		t.Skip("isolation applies only when Wisp runs as root")
	}
	srv, c := startServer(t, nil)
	createAction(t, c, "probe", "python:3", isolationProbePy, nil)
	db := filepath.Join(srv.cfg.DataDir, "wisp.db")
	act := invoke(t, c, "probe", map[string]any{"db": db})
	var r struct {
		UID        int
		CapEff, DB string
		Cwd        string
	}
	if err := json.Unmarshal(act.Response.Result, &r); err != nil {
		t.Fatalf("result %s: %v", act.Response.Result, err)
	}
	if r.UID == 0 || r.CapEff != "0000000000000000" || r.DB != "PermissionError" {
		t.Fatalf("action ran as uid %d with CapEff %s; reading %s: %s", r.UID, r.CapEff, db, r.DB)
	}
	if strings.HasPrefix(r.Cwd, srv.cfg.DataDir) {
		t.Fatalf("the action works in %s, inside the data folder", r.Cwd)
	}
}
