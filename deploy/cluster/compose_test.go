package cluster_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of a compose file the checks read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	User        string            `yaml:"user"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     string            `yaml:"env_file"`
	Secrets     []string          `yaml:"secrets"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// interpolation matches compose's ${VAR}, ${VAR:-default} and ${VAR:?error}.
var interpolation = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}`)

// interpolate expands s as compose does with an empty environment but for
// env; a required variable that is unset is an error.
func interpolate(s string, env map[string]string) (string, error) {
	var err error
	out := interpolation.ReplaceAllStringFunc(s, func(m string) string {
		p := interpolation.FindStringSubmatch(m)
		if v, ok := env[p[1]]; ok {
			return v
		}
		switch p[2] {
		case "-":
			return p[3]
		case "?":
			err = fmt.Errorf("%s is required: %s", p[1], p[3])
		}
		return ""
	})
	return out, err
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkNoPlaintextCredentials(t, "compose.yaml", string(raw))
	text, err := interpolate(string(raw), nil)
	if err != nil {
		t.Fatalf("compose.yaml needs no variable set: %v", err)
	}
	var c composeFile
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// mounts maps a service's container paths to their sources (a host path
// or a named volume).
func mounts(s composeService) map[string]string {
	out := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			out[parts[1]] = parts[0]
		}
	}
	return out
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	known := serveFlags(t)
	byRole := map[string][]string{}
	for name, s := range c.Services {
		if s.Image != "wisp:dev" {
			continue
		}
		flags, err := parseServe(s.Command, known)
		if err == nil {
			err = checkNode(flags)
		}
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if flags["id"] != name {
			t.Errorf("service %s: --id %q, want the service name (distinct, stable)", name, flags["id"])
		}
		if bus := flags["bus"]; bus != "nats://nats:4222" {
			t.Errorf("service %s: --bus %q, want the nats service, nats://nats:4222", name, bus)
		}
		for _, r := range roles(flags) {
			byRole[r] = append(byRole[r], name)
		}
		checkComposeWisp(t, name, s, flags)
	}
	for role, want := range map[string]int{"controller": 2, "invoker": 3, "feeds": 1} {
		if got := len(byRole[role]); got != want {
			t.Errorf("%d %s services (%v), want %d", got, role, byRole[role], want)
		}
	}
	for _, name := range byRole["controller"] {
		if len(c.Services[name].Ports) != 1 {
			t.Errorf("controller %s: ports %v, want one published port", name, c.Services[name].Ports)
		}
	}
	checkComposeState(t, c)
	checkComposeSecrets(t, c)
}

// checkComposeWisp checks what every Wisp node needs: the store from the
// environment, its dependencies, a health check on /readyz, and for Docker
// invokers the engine's socket and a data folder at its host path.
func checkComposeWisp(t *testing.T, name string, s composeService, flags map[string]string) {
	t.Helper()
	if store := s.Environment["WISP_STORE"]; store != "couchdb://couchdb:5984" {
		t.Errorf("service %s: WISP_STORE %q, want couchdb://couchdb:5984 (the credentials in a file)", name, store)
	}
	for env, secret := range map[string]string{"WISP_STORE_CREDENTIALS_FILE": "store-credentials", "WISP_BUS_CREDENTIALS_FILE": "bus-credentials"} {
		if s.Environment[env] != "/run/secrets/"+secret || !slices.Contains(s.Secrets, secret) {
			t.Errorf("service %s: %s %q with secrets %v, want /run/secrets/%s from the secret %s", name, env, s.Environment[env], s.Secrets, secret, secret)
		}
	}
	for _, dep := range []string{"nats", "couchdb"} {
		if s.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("service %s: depends_on %s %+v, want condition service_healthy", name, dep, s.DependsOn[dep])
		}
	}
	if want := []string{"CMD", "/wisp", "probe", "http://127.0.0.1:3233/readyz"}; !slices.Equal(s.Healthcheck.Test, want) {
		t.Errorf("service %s: healthcheck %q, want %q", name, s.Healthcheck.Test, want)
	}
	if !slices.Contains(roles(flags), "invoker") || flags["invoker"] != "docker" {
		return
	}
	m := mounts(s)
	if m["/var/run/docker.sock"] != "/var/run/docker.sock" {
		t.Errorf("invoker %s: the Docker socket is not mounted (volumes %v)", name, s.Volumes)
	}
	if _, ok := flags["docker-sockets"]; !ok {
		t.Errorf("invoker %s: no --docker-sockets; action ports on the host's 127.0.0.1 are out of its reach", name)
	}
	if data := flags["data"]; data == "" || m[data] != data {
		t.Errorf("invoker %s: --data %q must be a host folder mounted at the same path (volumes %v)", name, data, s.Volumes)
	}
	if s.User != "0:0" {
		t.Errorf("invoker %s: user %q, want 0:0 (the Docker socket's owner)", name, s.User)
	}
}

// checkComposeState checks NATS (JetStream on a named volume) and CouchDB
// (credentials, data on a named volume): the state that must persist.
func checkComposeState(t *testing.T, c composeFile) {
	t.Helper()
	nats, ok := c.Services["nats"]
	if !ok {
		t.Fatal("no nats service")
	}
	i := slices.Index(nats.Command, "--store_dir")
	if !slices.Contains(nats.Command, "--jetstream") || i < 0 || i+1 == len(nats.Command) {
		t.Errorf("nats: command %q, want --jetstream and --store_dir", nats.Command)
	} else if v := mounts(nats)[nats.Command[i+1]]; c.Volumes == nil || !hasKey(c.Volumes, v) {
		t.Errorf("nats: store folder %s is on %q, want a named volume", nats.Command[i+1], v)
	}
	couch, ok := c.Services["couchdb"]
	if !ok {
		t.Fatal("no couchdb service")
	}
	if couch.EnvFile != "./secrets/couchdb.env" || len(couch.Environment) != 0 {
		t.Errorf("couchdb: env_file %q, environment %v: want COUCHDB_USER and COUCHDB_PASSWORD from ./secrets/couchdb.env (secrets.sh) alone", couch.EnvFile, couch.Environment)
	}
	if v := mounts(couch)["/opt/couchdb/data"]; !hasKey(c.Volumes, v) {
		t.Errorf("couchdb: /opt/couchdb/data is on %q, want a named volume", v)
	}
	if src := mounts(couch)["/opt/couchdb/etc/default.d/wisp.ini"]; src != "" {
		if _, err := os.Stat(src); err != nil {
			t.Errorf("couchdb: configuration %s: %v", src, err)
		}
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// checkComposeSecrets checks that NATS reads its authorization block from
// a secret and that every secret is a file secrets.sh writes.
func checkComposeSecrets(t *testing.T, c composeFile) {
	t.Helper()
	nats := c.Services["nats"]
	i := slices.Index(nats.Command, "--config")
	if i < 0 || i+1 == len(nats.Command) || nats.Command[i+1] != "/run/secrets/nats-auth.conf" || !slices.Contains(nats.Secrets, "nats-auth.conf") {
		t.Errorf("nats: command %q, secrets %v: want --config /run/secrets/nats-auth.conf from the secret nats-auth.conf", nats.Command, nats.Secrets)
	}
	for name, s := range c.Secrets {
		if file, ok := strings.CutPrefix(s.File, "./secrets/"); !ok || !slices.Contains(secretFiles, file) {
			t.Errorf("secret %s: file %q, want one of secrets.sh's in ./secrets/: %v", name, s.File, secretFiles)
		}
	}
	for name, s := range c.Services {
		for _, secret := range s.Secrets {
			if _, ok := c.Secrets[secret]; !ok {
				t.Errorf("service %s: secret %s is not defined", name, secret)
			}
		}
	}
}
