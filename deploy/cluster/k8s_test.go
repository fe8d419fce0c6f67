package cluster_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// object is the part of a Kubernetes object the checks read.
type object struct {
	file       string
	Kind       string `yaml:"kind"`
	APIVersion string `yaml:"apiVersion"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas    *int                                       `yaml:"replicas"`
		ServiceName string                                     `yaml:"serviceName"`
		Selector    map[string]any                             `yaml:"selector"` // a Service's labels, or a workload's matchLabels
		Ports       []map[string]any                           `yaml:"ports"`
		Template    podTemplate                                `yaml:"template"`
		Claims      []struct{ Metadata struct{ Name string } } `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type podTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Containers []container `yaml:"containers"`
		Volumes    []struct {
			Name     string `yaml:"name"`
			HostPath *struct {
				Path string `yaml:"path"`
			} `yaml:"hostPath"`
			Secret *struct {
				SecretName string `yaml:"secretName"`
			} `yaml:"secret"`
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Args    []string `yaml:"args"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// loadManifests decodes every document of every manifest that
// kustomization.yaml lists, checking it lists exactly the manifests there.
func loadManifests(t *testing.T) []object {
	t.Helper()
	kust := loadKustomization(t)
	if len(kust.Images) != 1 || kust.Images[0].Name != "wisp:dev" {
		t.Errorf("kustomization.yaml: images %+v, want the one entry wisp:dev (its newName/newTag set the image)", kust.Images)
	}
	files, _ := filepath.Glob(filepath.Join("k8s", "*.yaml"))
	var manifests []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			manifests = append(manifests, filepath.Base(f))
		}
	}
	resources := slices.Sorted(slices.Values(kust.Resources))
	if !slices.Equal(resources, manifests) {
		t.Errorf("kustomization.yaml resources %v, want every manifest in k8s/: %v", resources, manifests)
	}
	var objs []object
	for _, name := range manifests {
		raw, err := os.ReadFile(filepath.Join("k8s", name))
		if err != nil {
			t.Fatal(err)
		}
		checkNoPlaintextCredentials(t, name, string(raw))
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			o := object{file: name}
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if o.Kind == "Secret" {
				t.Errorf("%s: Secret/%s: credentials come from kustomization.yaml's secretGenerator (secrets.sh's files), not a manifest", name, o.Metadata.Name)
			}
			if o.Kind == "" || o.APIVersion == "" || o.Metadata.Name == "" {
				t.Errorf("%s: a document without kind, apiVersion or metadata.name: %+v", name, o)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

func TestK8sObjects(t *testing.T) {
	objs := loadManifests(t)
	var got []string
	byName := map[string]object{}
	for _, o := range objs {
		got = append(got, o.Kind+"/"+o.Metadata.Name)
		byName[o.Kind+"/"+o.Metadata.Name] = o
	}
	sort.Strings(got)
	want := []string{
		"ConfigMap/couchdb", "Deployment/wisp-controller", "Deployment/wisp-feeds",
		"Service/couchdb", "Service/nats", "Service/wisp", "Service/wisp-invoker",
		"StatefulSet/couchdb", "StatefulSet/nats", "StatefulSet/wisp-invoker",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("objects %v, want %v", got, want)
	}
	for name, replicas := range map[string]int{"Deployment/wisp-controller": 2, "StatefulSet/wisp-invoker": 3, "Deployment/wisp-feeds": 1, "StatefulSet/nats": 1, "StatefulSet/couchdb": 1} {
		if r := byName[name].Spec.Replicas; r == nil || *r != replicas {
			t.Errorf("%s: replicas %s, want %d", name, describeReplicas(r), replicas)
		}
	}
	for _, name := range []string{"StatefulSet/nats", "StatefulSet/couchdb"} {
		if c := byName[name].Spec.Claims; len(c) != 1 || c[0].Metadata.Name != "data" {
			t.Errorf("%s: volumeClaimTemplates %+v, want one named data: its state must persist", name, c)
		}
	}
	checkSelectors(t, objs, byName)
}

// checkSelectors checks that each workload selects its own pods, each
// Service selects some workload's pods and each StatefulSet names a Service.
func checkSelectors(t *testing.T, objs []object, byName map[string]object) {
	t.Helper()
	var pods []map[string]string
	for _, o := range objs {
		if o.Kind != "Deployment" && o.Kind != "StatefulSet" {
			continue
		}
		labels := o.Spec.Template.Metadata.Labels
		pods = append(pods, labels)
		match, _ := o.Spec.Selector["matchLabels"].(map[string]any)
		if len(match) == 0 || !selects(match, labels) {
			t.Errorf("%s/%s: selector %v does not select its pods %v", o.Kind, o.Metadata.Name, match, labels)
		}
		if o.Kind == "StatefulSet" {
			if _, ok := byName["Service/"+o.Spec.ServiceName]; !ok {
				t.Errorf("StatefulSet/%s: serviceName %q names no Service", o.Metadata.Name, o.Spec.ServiceName)
			}
		}
	}
	for _, o := range objs {
		if o.Kind != "Service" {
			continue
		}
		if !slices.ContainsFunc(pods, func(labels map[string]string) bool { return selects(o.Spec.Selector, labels) }) {
			t.Errorf("Service/%s: selector %v selects no pods", o.Metadata.Name, o.Spec.Selector)
		}
	}
}

func selects(selector map[string]any, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// envReference matches Kubernetes' $(VAR) in args and env values.
var envReference = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func TestK8sWispContainers(t *testing.T) {
	known := serveFlags(t)
	byRole := map[string]int{}
	for _, o := range loadManifests(t) {
		for _, c := range o.Spec.Template.Spec.Containers {
			where := o.Kind + "/" + o.Metadata.Name + " container " + c.Name
			checkResources(t, where, c)
			if c.Image != "wisp:dev" && !strings.HasPrefix(c.Image, "nats:") && !strings.HasPrefix(c.Image, "couchdb:") {
				t.Errorf("%s: image %q, want wisp:dev (set another in kustomization.yaml)", where, c.Image)
			}
			if c.Image != "wisp:dev" {
				continue
			}
			flags, err := parseServe(c.Args, known)
			if err == nil {
				err = checkNode(flags)
			}
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			for _, r := range roles(flags) {
				byRole[r] += *o.Spec.Replicas
			}
			checkK8sWisp(t, where, o, c, flags)
		}
	}
	if want := map[string]int{"controller": 2, "invoker": 3, "feeds": 1}; !maps.Equal(byRole, want) {
		t.Errorf("wisp replicas by role %v, want %v", byRole, want)
	}
}

func checkResources(t *testing.T, where string, c container) {
	t.Helper()
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: resources %+v, want cpu and memory requests and a memory limit", where, c.Resources)
	}
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Errorf("%s: want a readiness and a liveness probe", where)
	}
}

// checkK8sWisp checks a wisp container: its id from the pod name, every
// $(VAR) defined, the store from the Secret, readiness on /readyz and liveness on /healthz at --addr's
// port, and for Docker invokers the socket and a host data folder mounted
// at its host path.
func checkK8sWisp(t *testing.T, where string, o object, c container, flags map[string]string) {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			env[e.Name] = "field:" + e.ValueFrom.FieldRef.FieldPath
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		default:
			env[e.Name] = e.Value
		}
		for _, ref := range envReference.FindAllStringSubmatch(e.Value, -1) {
			if _, ok := env[ref[1]]; !ok {
				t.Errorf("%s: env %s uses $(%s), not defined before it", where, e.Name, ref[1])
			}
		}
	}
	for _, arg := range c.Args {
		for _, ref := range envReference.FindAllStringSubmatch(arg, -1) {
			if _, ok := env[ref[1]]; !ok {
				t.Errorf("%s: argument %q uses $(%s), not in env", where, arg, ref[1])
			}
		}
	}
	if flags["id"] != "$(POD_NAME)" || env["POD_NAME"] != "field:metadata.name" {
		t.Errorf("%s: --id %q with POD_NAME %q, want $(POD_NAME) from metadata.name", where, flags["id"], env["POD_NAME"])
	}
	if env["WISP_STORE"] != "couchdb://couchdb:5984" {
		t.Errorf("%s: WISP_STORE %q, want couchdb://couchdb:5984 (the credentials in a file)", where, env["WISP_STORE"])
	}
	for name, key := range map[string]string{"WISP_STORE_CREDENTIALS_FILE": "store", "WISP_BUS_CREDENTIALS_FILE": "bus"} {
		if got := secretFileAt(t, o, c, env[name]); got != "wisp-credentials/"+key {
			t.Errorf("%s: %s %q is %q, want the file %s of the wisp-credentials Secret", where, name, env[name], got, key)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 3233 || c.Ports[0].Name != "http" {
		t.Errorf("%s: ports %+v, want http: 3233", where, c.Ports)
	}
	for path, p := range map[string]*probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port != "http" {
			t.Errorf("%s: probe %s, want httpGet %s on port http", where, describeProbe(p), path)
		}
	}
	if !slices.Contains(roles(flags), "invoker") {
		return
	}
	if o.Kind != "StatefulSet" {
		t.Errorf("%s: invokers need stable ids: a StatefulSet, not a %s", where, o.Kind)
	}
	if flags["invoker"] != "docker" {
		return
	}
	hostPaths := map[string]string{}
	for _, v := range o.Spec.Template.Spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	sameAsHost := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if hostPaths[m.Name] == m.MountPath {
			sameAsHost[m.MountPath] = true
		}
	}
	if !sameAsHost["/var/run/docker.sock"] {
		t.Errorf("%s: the node's Docker socket is not mounted", where)
	}
	if _, ok := flags["docker-sockets"]; !ok {
		t.Errorf("%s: no --docker-sockets; action ports on the node's 127.0.0.1 are out of a pod's reach", where)
	}
	if !sameAsHost[filepath.Dir(flags["data"])] {
		t.Errorf("%s: --data %q must lie in a hostPath mounted at its node path", where, flags["data"])
	}
}

func describeReplicas(r *int) string {
	if r == nil {
		return "unset"
	}
	return strconv.Itoa(*r)
}

func describeProbe(p *probe) string {
	if p == nil || p.HTTPGet == nil {
		return "not httpGet"
	}
	return fmt.Sprintf("httpGet %s on port %v", p.HTTPGet.Path, p.HTTPGet.Port)
}

// kustomization is the part of kustomization.yaml the checks read.
type kustomization struct {
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name string `yaml:"name"`
	} `yaml:"images"`
	SecretGenerator []struct {
		Name  string   `yaml:"name"`
		Envs  []string `yaml:"envs"`
		Files []string `yaml:"files"`
	} `yaml:"secretGenerator"`
}

func loadKustomization(t *testing.T) kustomization {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("k8s", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kust kustomization
	if err := yaml.Unmarshal(raw, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	return kust
}

// generatedKeys maps each Secret kustomization.yaml generates to the keys
// of its files (none for one made of an env file), checking that each
// source is a file secrets.sh writes.
func generatedKeys(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, g := range loadKustomization(t).SecretGenerator {
		out[g.Name] = nil
		sources := append(slices.Clone(g.Envs), g.Files...)
		for _, src := range sources {
			key, file, ok := strings.Cut(src, "=")
			if !ok {
				file, key = src, filepath.Base(src)
			}
			if name, ok := strings.CutPrefix(file, "secrets/"); !ok || !slices.Contains(secretFiles, name) {
				t.Errorf("secretGenerator %s: %q, want one of secrets.sh's files in secrets/: %v", g.Name, src, secretFiles)
			}
			if !slices.Contains(g.Envs, src) {
				out[g.Name] = append(out[g.Name], key)
			}
		}
		if len(sources) == 0 {
			t.Errorf("secretGenerator %s: no source", g.Name)
		}
	}
	return out
}

// secretFileAt returns "SECRET/KEY" for the file at path in container c
// when it comes from a mounted Secret that kustomization.yaml generates
// with that key, else "".
func secretFileAt(t *testing.T, o object, c container, path string) string {
	t.Helper()
	secrets := map[string]string{}
	for _, v := range o.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			secrets[v.Name] = v.Secret.SecretName
		}
	}
	keys := generatedKeys(t)
	for _, m := range c.VolumeMounts {
		key, ok := strings.CutPrefix(path, m.MountPath+"/")
		if name := secrets[m.Name]; ok && name != "" && slices.Contains(keys[name], key) {
			return name + "/" + key
		}
	}
	return ""
}

// TestK8sCredentials: NATS reads its authorization block from the
// generated nats-auth Secret and CouchDB its admin from the generated
// couchdb Secret.
func TestK8sCredentials(t *testing.T) {
	keys := generatedKeys(t)
	for _, name := range []string{"couchdb", "wisp-credentials", "nats-auth"} {
		if _, ok := keys[name]; !ok {
			t.Errorf("kustomization.yaml generates no Secret %s", name)
		}
	}
	seen := 0
	for _, o := range loadManifests(t) {
		for _, c := range o.Spec.Template.Spec.Containers {
			where := o.Kind + "/" + o.Metadata.Name + " container " + c.Name
			switch {
			case strings.HasPrefix(c.Image, "nats:"):
				seen++
				i := slices.Index(c.Args, "--config")
				if i < 0 || i+1 == len(c.Args) || secretFileAt(t, o, c, c.Args[i+1]) != "nats-auth/nats-auth.conf" {
					t.Errorf("%s: args %q, want --config on the nats-auth Secret's nats-auth.conf", where, c.Args)
				}
			case strings.HasPrefix(c.Image, "couchdb:"):
				seen++
				if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "couchdb" {
					t.Errorf("%s: envFrom %+v, want the couchdb Secret (COUCHDB_USER, COUCHDB_PASSWORD)", where, c.EnvFrom)
				}
			}
		}
	}
	if seen != 2 {
		t.Errorf("found %d nats and couchdb containers, want 2", seen)
	}
}
