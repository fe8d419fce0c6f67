package catalog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
	"github.com/wispio/wisp/store/bolt"
)

// TestFeedParametersAnnotation: a builtin's Parameters are installed as
// its "parameters" annotation, in OpenWhisk's form, and a change to them
// reinstalls the action.
func TestFeedParametersAnnotation(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "wisp.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	in := NewInstaller(st, entity.DefaultSystemLimits(), func(k string) (string, bool) { return k, false }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pkg := Package{Name: "mqtt", Description: "MQTT", Builtins: []Builtin{{
		Name: "messages", Handler: "feeds/mqtt/messages", Feed: true,
		Parameters: []Parameter{
			{Name: "topic", Required: true, Description: "The topic filter."},
			{Name: "password", BindTime: true, Type: "password", Description: "The password."},
			{Name: "qos", DefaultValue: 1},
		},
	}}}
	read := func() string {
		t.Helper()
		if err := in.Install(context.Background(), []Package{pkg}); err != nil {
			t.Fatal(err)
		}
		a, _, err := store.GetDoc[entity.Action](context.Background(), st, SystemNamespace, store.Actions, "mqtt/messages")
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := a.Annotations.Get("parameters")
		if !ok {
			t.Fatalf("no parameters annotation in %v", a.Annotations)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	want := `[{"description":"The topic filter.","name":"topic","required":true},` +
		`{"bindTime":true,"description":"The password.","name":"password","required":false,"type":"password"},` +
		`{"defaultValue":1,"name":"qos","required":false}]`
	if got := read(); got != want {
		t.Errorf("parameters = %s\nwant         %s", got, want)
	}
	pkg.Builtins[0].Parameters[0].Description = "Changed."
	if got := read(); got == want {
		t.Errorf("a changed description was not reinstalled: %s", got)
	}
}
