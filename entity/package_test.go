package entity

import (
	"errors"
	"strings"
	"testing"
)

func TestBuildPackage(t *testing.T) {
	lim := DefaultSystemLimits()
	yes := true
	pkg := &Package{Namespace: "ns", Name: "p", Version: "0.0.3", Annotations: Params{}, Parameters: Params{}}
	binding := &Package{Namespace: "ns", Name: "b", Version: "0.0.1", Binding: Binding{Namespace: "other", Name: "p"}}
	tests := []struct {
		name     string
		fqn      FQN
		req      PackagePut
		existing *Package
		check    func(t *testing.T, p *Package)
		wantErr  string
	}{
		{"create", FQN{Namespace: "ns", Name: "p"}, PackagePut{Publish: &yes, Parameters: Params{{Key: "a", Value: []byte("1")}}}, nil, func(t *testing.T, p *Package) {
			if !p.Publish || p.Version != "0.0.1" || p.IsBinding() || len(p.Parameters) != 1 {
				t.Fatalf("package = %+v", p)
			}
		}, ""},
		{"binding resolves _", FQN{Namespace: "ns", Name: "b"}, PackagePut{Binding: &Binding{Namespace: "_", Name: "p"}}, nil, func(t *testing.T, p *Package) {
			if p.Binding != (Binding{Namespace: "ns", Name: "p"}) {
				t.Fatalf("binding = %+v", p.Binding)
			}
			if _, ok := p.Annotations.Get("binding"); !ok {
				t.Fatal("no binding annotation")
			}
		}, ""},
		{"update bumps version", FQN{Namespace: "ns", Name: "p"}, PackagePut{}, pkg, func(t *testing.T, p *Package) {
			if p.Version != "0.0.4" {
				t.Fatalf("version = %s", p.Version)
			}
		}, ""},
		{"update a binding", FQN{Namespace: "ns", Name: "b"}, PackagePut{Binding: &Binding{Namespace: "x", Name: "q"}}, binding, func(t *testing.T, p *Package) {
			if p.Binding.Name != "q" {
				t.Fatalf("binding = %+v", p.Binding)
			}
		}, ""},
		{"empty binding is no binding", FQN{Namespace: "ns", Name: "p"}, PackagePut{Binding: &Binding{}}, pkg, nil, ""},
		{"reserved", FQN{Namespace: "ns", Name: "default"}, PackagePut{}, nil, nil, "name: Package name 'default' is reserved."},
		{"bad name", FQN{Namespace: "ns", Name: "-x"}, PackagePut{}, nil, nil, "name:"},
		{"body name differs", FQN{Namespace: "ns", Name: "p"}, PackagePut{Name: "q"}, nil, nil, "name:"},
		{"bad binding name", FQN{Namespace: "ns", Name: "b"}, PackagePut{Binding: &Binding{Namespace: "ns", Name: "a/b"}}, nil, nil, "binding.name:"},
		{"duplicate parameter", FQN{Namespace: "ns", Name: "p"}, PackagePut{Parameters: Params{{Key: "a", Value: []byte("1")}, {Key: "a", Value: []byte("2")}}}, nil, nil, "parameters:"},
		{"package becomes binding", FQN{Namespace: "ns", Name: "p"}, PackagePut{Binding: &Binding{Namespace: "x", Name: "y"}}, pkg, nil, ErrPackageCannotBecomeBinding.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := BuildPackage(tt.fqn, &tt.req, tt.existing, lim, 42)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Updated != 42 || p.Annotations == nil || p.Parameters == nil {
				t.Fatalf("package = %+v", p)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
	if _, err := BuildPackage(FQN{Namespace: "ns", Name: "p"}, &PackagePut{Binding: &Binding{Namespace: "x", Name: "y"}}, pkg, lim, 0); !errors.Is(err, ErrPackageCannotBecomeBinding) {
		t.Fatalf("err = %v", err)
	}
}

// TestBuildPackageSizes: parameters and annotations are each bounded by
// the parameter size limit (413), as in OpenWhisk.
func TestBuildPackageSizes(t *testing.T) {
	lim := DefaultSystemLimits()
	lim.ParamsSize = 100
	big := Params{{Key: "k", Value: []byte(`"` + strings.Repeat("v", 100) + `"`)}}
	small := Params{{Key: "k", Value: []byte(`"v"`)}}
	for _, tt := range []struct {
		name  string
		req   PackagePut
		field string // "" when accepted
	}{
		{"small", PackagePut{Parameters: small, Annotations: small}, ""},
		{"parameters too large", PackagePut{Parameters: big}, "parameters"},
		{"annotations too large", PackagePut{Annotations: big}, "annotations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildPackage(FQN{Namespace: "ns", Name: "p"}, &tt.req, nil, lim, 0)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe, ok := AsFieldError(err)
			if !ok || fe.Field != tt.field || !fe.TooLarge {
				t.Fatalf("err = %v, want a too-large error of %s", err, tt.field)
			}
		})
	}
}

func TestIsConductor(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"true", true}, {"1", true}, {`"yes"`, true}, {"{}", true},
		{"false", false}, {"0", false}, {"null", false}, {`""`, false},
	}
	for _, tt := range tests {
		a := &Action{Exec: Exec{Kind: "nodejs:20"}, Annotations: Params{{Key: "conductor", Value: []byte(tt.value)}}}
		if got := a.IsConductor(); got != tt.want {
			t.Errorf("conductor %s: IsConductor = %v, want %v", tt.value, got, tt.want)
		}
	}
	seq := &Action{Exec: Exec{Kind: KindSequence}, Annotations: Params{{Key: "conductor", Value: []byte("true")}}}
	if seq.IsConductor() {
		t.Error("a sequence is never a conductor")
	}
}
