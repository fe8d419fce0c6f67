package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestSettingsPrecedence(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`["guest"]`))
	}))
	defer srv.Close()
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name     string
		props    string
		env      map[string]string
		args     []string
		wantAuth string
	}{
		{"file", "APIHOST=" + srv.URL + "\nAUTH=file:key\n", nil, nil, basic("file:key")},
		{"env beats file", "APIHOST=http://127.0.0.1:1\nAUTH=file:key\n",
			map[string]string{"WISP_APIHOST": srv.URL, "WISP_AUTH": "env:key"}, nil, basic("env:key")},
		{"flags beat env", "AUTH=file:key\n",
			map[string]string{"WISP_APIHOST": "http://127.0.0.1:1", "WISP_AUTH": "env:key"},
			[]string{"--apihost", srv.URL, "-u", "flag:key"}, basic("flag:key")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAuth = nil
			isolate(t, tt.props)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(context.Background(), t, "", append(tt.args, "namespace", "list")...)
			if got.err != nil {
				t.Fatalf("run: %v\n%s", got.err, got.stderr)
			}
			if len(gotAuth) != 1 || gotAuth[0] != tt.wantAuth {
				t.Fatalf("Authorization = %q, want %q", gotAuth, tt.wantAuth)
			}
		})
	}
}

func TestNoAPIHost(t *testing.T) {
	isolate(t, "AUTH=a:b\n")
	got := runCLI(context.Background(), t, "", "action", "list")
	want := "error: the API host is not set; run 'wisp property set --apihost HOST', or use --apihost or $WISP_APIHOST\n"
	if got.err == nil || got.stderr != want {
		t.Fatalf("err %v, stderr %q", got.err, got.stderr)
	}
}

func TestInsecure(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`["guest"]`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	isolate(t, "APIHOST="+srv.URL+"\n")
	if got := runCLI(context.Background(), t, "", "namespace", "list"); got.err == nil {
		t.Fatal("a self-signed certificate was accepted without -i")
	}
	if got := runCLI(context.Background(), t, "", "-i", "namespace", "list"); got.err != nil || got.stdout != "namespaces\nguest\n" {
		t.Fatalf("-i: err %v, stdout %q", got.err, got.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"action", "list", "--bogus"}, "error: unknown flag: --bogus\nRun 'wisp action list --help' for usage.\n"},
		{[]string{"action", "invoke", "hello", "--bogus"}, "error: unknown flag: --bogus\nRun 'wisp action invoke --help' for usage.\n"},
		{[]string{"action", "invoke"}, "error: Invalid argument(s). An action name is required.\nRun 'wisp action invoke --help' for usage.\n"},
		{[]string{"action", "get", "a/b/c"}, "error: parse name \"a/b/c\": a name has the form [package/]name or /namespace[/package]/name\nRun 'wisp action get --help' for usage.\n"},
	}
	for _, tt := range tests {
		isolate(t, "APIHOST=localhost:1\n")
		got := runCLI(context.Background(), t, "", tt.args...)
		if got.err == nil || got.stderr != tt.stderr || got.stdout != "" {
			t.Errorf("%v: err %v\nstdout %q\nstderr %q\nwant   %q", tt.args, got.err, got.stdout, got.stderr, tt.stderr)
		}
	}
}

func TestHelpOfPairCommands(t *testing.T) {
	isolate(t, "")
	got := runCLI(context.Background(), t, "", "action", "create", "--help")
	if got.err != nil {
		t.Fatalf("help: %v", got.err)
	}
	for _, want := range []string{"create ACTION_NAME ACTION", "-p, --param KEY VALUE", "-a, --annotation KEY VALUE", "--kind KIND", "--apihost HOST"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, got.stdout)
		}
	}
}

func TestErrorsForTheCaller(t *testing.T) {
	isolate(t, "")
	var out, errOut bytes.Buffer
	root := NewRoot(strings.NewReader(""), &out, &errOut)
	root.AddCommand(&cobra.Command{Use: "serve", RunE: func(*cobra.Command, []string) error { return errors.New("port in use") }})
	tests := []struct {
		args     []string
		reported bool
		stderr   string
	}{
		// A server subcommand's error is left to the caller to print.
		{[]string{"serve"}, false, ""},
		{[]string{"serve", "--bogus"}, false, ""},
		// Client commands print theirs.
		{[]string{"action", "list"}, true, "error: the API host is not set; run 'wisp property set --apihost HOST', or use --apihost or $WISP_APIHOST\n"},
		{[]string{"action", "list", "--bogus"}, true, "error: unknown flag: --bogus\nRun 'wisp action list --help' for usage.\n"},
	}
	for _, tt := range tests {
		out.Reset()
		errOut.Reset()
		root.SetArgs(tt.args)
		err := root.Execute()
		if err == nil || IsReported(err) != tt.reported {
			t.Errorf("%v: err = %v, reported %v, want reported %v", tt.args, err, IsReported(err), tt.reported)
		}
		if tt.stderr != "" && errOut.String() != tt.stderr {
			t.Errorf("%v: stderr = %q, want %q", tt.args, errOut.String(), tt.stderr)
		}
		if strings.Contains(errOut.String(), "Error:") {
			t.Errorf("%v: cobra printed the error too: %q", tt.args, errOut.String())
		}
	}
}

func TestSplitPairs(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	addPairFlags(cmd, false)
	tests := []struct {
		args  []string
		rest  []string
		pairs []pair
		fails bool
	}{
		{args: []string{"name", "-p", "k", "v", "file.js"}, rest: []string{"name", "file.js"}, pairs: []pair{{"k", "v"}}},
		{args: []string{"--param", "k", "-p", "-a", "b"}, rest: []string{"-a", "b"}, pairs: []pair{{"k", "-p"}}},
		{args: []string{"-a", "k", "v"}, rest: []string{"-a", "k", "v"}}, // no -a on this command
		{args: []string{"--", "-p", "k", "v"}, rest: []string{"--", "-p", "k", "v"}},
		{args: []string{"-p", "k"}, fails: true},
	}
	for _, tt := range tests {
		rest, pairs, err := splitPairs(cmd, tt.args)
		if tt.fails {
			if err == nil {
				t.Errorf("splitPairs(%q) succeeded", tt.args)
			}
			continue
		}
		if err != nil || strings.Join(rest, "|") != strings.Join(tt.rest, "|") || len(pairs[paramFlag]) != len(tt.pairs) {
			t.Errorf("splitPairs(%q) = %q, %v, %v", tt.args, rest, pairs, err)
			continue
		}
		for i, p := range tt.pairs {
			if pairs[paramFlag][i] != p {
				t.Errorf("splitPairs(%q) pairs = %v, want %v", tt.args, pairs[paramFlag], tt.pairs)
			}
		}
	}
}

func TestJSONValue(t *testing.T) {
	tests := map[string]string{
		"World": `"World"`, "5": `5`, "-1.5e3": `-1.5e3`, "true": `true`, "null": `null`,
		`{"a": 1}`: `{"a": 1}`, `[1, 2]`: `[1, 2]`, `"quoted"`: `"quoted"`, "": `""`,
		"{broken": `"{broken"`, " 7 ": `7`, `say "hi"`: `"say \"hi\""`,
	}
	for in, want := range tests {
		got := jsonValue(in)
		if string(got) != want || !json.Valid(got) {
			t.Errorf("jsonValue(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	isolate(t, "")
	got := runCLI(context.Background(), t, "", "action")
	if got.err != nil || !strings.Contains(got.stdout, "Available Commands:") {
		t.Errorf("bare group: err %v, stdout %q", got.err, got.stdout)
	}
	got = runCLI(context.Background(), t, "", "action", "bogus")
	want := "error: unknown command \"bogus\" for \"wisp action\"\nRun 'wisp action --help' for usage.\n"
	if got.err == nil || got.stderr != want {
		t.Errorf("unknown subcommand: err %v, stderr %q, want %q", got.err, got.stderr, want)
	}
}
