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
		} `yaml:"volumes"`
	} `yaml:"spec"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Env   []struct {
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
	raw, err := os.ReadFile(filepath.Join("k8s", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kust struct {
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name string `yaml:"name"`
		} `yaml:"images"`
	}
	if err := yaml.Unmarshal(raw, &kust); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
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
		"ConfigMap/couchdb", "Deployment/wisp-controller", "Deployment/wisp-feeds", "Secret/couchdb",
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
	if env["WISP_STORE"] != "couchdb://$(COUCHDB_USER):$(COUCHDB_PASSWORD)@couchdb:5984" ||
		env["COUCHDB_PASSWORD"] != "secret:couchdb/COUCHDB_PASSWORD" {
		t.Errorf("%s: WISP_STORE %q, COUCHDB_PASSWORD %q: want the store URL built from the couchdb Secret", where, env["WISP_STORE"], env["COUCHDB_PASSWORD"])
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
