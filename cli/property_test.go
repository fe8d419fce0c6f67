package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestPropertySetKeepsOtherKeys(t *testing.T) {
	path := isolate(t, "# written by hand\nAPIHOST=old.example.com\nOTHER=keep me\nAUTH=old\n\nAUTH=older\n")
	got := runCLI(context.Background(), t, "", "property", "set", "--apihost", "localhost:3233", "-u", "u:k", "--namespace", "guest")
	if got.err != nil {
		t.Fatalf("set: %v\n%s", got.err, got.stderr)
	}
	wantOut := "ok: whisk auth set. Run 'wisp property get --auth' to see the new value.\n" +
		"ok: whisk API host set to localhost:3233\n" +
		"ok: whisk namespace set to guest\n"
	if got.stdout != wantOut {
		t.Errorf("stdout =\n%s\nwant\n%s", got.stdout, wantOut)
	}
	wantFile := "# written by hand\nAPIHOST=localhost:3233\nOTHER=keep me\nAUTH=u:k\n\nNAMESPACE=guest\n"
	if data, _ := os.ReadFile(path); string(data) != wantFile {
		t.Errorf("file =\n%s\nwant\n%s", data, wantFile)
	}

	got = runCLI(context.Background(), t, "", "property", "unset", "--auth", "--namespace")
	if got.err != nil {
		t.Fatalf("unset: %v", got.err)
	}
	wantOut = "ok: whisk auth unset.\nok: whisk namespace unset; the default value of _ will be used.\n"
	if got.stdout != wantOut {
		t.Errorf("stdout =\n%s\nwant\n%s", got.stdout, wantOut)
	}
	wantFile = "# written by hand\nAPIHOST=localhost:3233\nOTHER=keep me\n\n"
	if data, _ := os.ReadFile(path); string(data) != wantFile {
		t.Errorf("file =\n%q\nwant\n%q", data, wantFile)
	}
}

func TestPropertySetDefaultsToHome(t *testing.T) {
	isolate(t, "")
	t.Setenv("WSK_CONFIG_FILE", "")
	got := runCLI(context.Background(), t, "", "property", "set", "--apihost", "https://wisp.example.com")
	if got.err != nil {
		t.Fatalf("set: %v", got.err)
	}
	path := filepath.Join(os.Getenv("HOME"), ".wskprops")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	if data, _ := os.ReadFile(path); string(data) != "APIHOST=https://wisp.example.com\n" {
		t.Errorf("file = %q", data)
	}
}

func TestPropertySetRejects(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"bad host", []string{"property", "set", "--apihost", "ftp://x"},
			"error: unable to set API host value; the API host value 'ftp://x' is invalid: API host \"ftp://x\": scheme must be http or https\n"},
		{"nothing to set", []string{"property", "set"},
			"error: Set at least one of --apihost, --auth, --apiversion or --namespace.\nRun 'wisp property set --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := isolate(t, "")
			got := runCLI(context.Background(), t, "", tt.args...)
			if got.err == nil || got.stderr != tt.stderr {
				t.Errorf("err %v, stderr %q, want %q", got.err, got.stderr, tt.stderr)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("a rejected set wrote the file")
			}
		})
	}
}

func TestPropertyGet(t *testing.T) {
	api, srv := newFakeAPI(t, exchange{method: "GET", path: "/api/v1", anonymous: true, status: 200, reply: `{"build":"2024-03-01","buildno":"42"}`})
	isolate(t, propsFor(srv)+"NAMESPACE=guest\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"property", "get", "--auth"}, "whisk auth\t\t" + testAuth + "\n"},
		{[]string{"property", "get", "--apihost", "--namespace"}, "whisk API host\t\t" + srv.URL + "\nwhisk namespace\t\tguest\n"},
		{[]string{"property", "get", "--apiversion"}, "whisk API version\tv1\n"},
		{[]string{"property", "get"}, "whisk auth\t\t" + testAuth + "\nwhisk API host\t\t" + srv.URL +
			"\nwhisk API version\tv1\nwhisk namespace\t\tguest\nwhisk API build\t\t2024-03-01\nwhisk API build number\t42\n"},
	}
	for _, tt := range tests {
		got := runCLI(context.Background(), t, "", tt.args...)
		if got.err != nil || got.stdout != tt.want {
			t.Errorf("%v: err %v, stdout\n%s\nwant\n%s", tt.args, got.err, got.stdout, tt.want)
		}
	}
	api.check(t)
}

func TestPropertyGetWithoutServer(t *testing.T) {
	isolate(t, "")
	got := runCLI(context.Background(), t, "", "property", "get", "--apibuild")
	if got.err == nil || got.stdout != "whisk API build\t\tUnknown\n" {
		t.Fatalf("err %v, stdout %q", got.err, got.stdout)
	}
}

func TestProps(t *testing.T) {
	p := &props{lines: []string{"# c", " APIHOST = h ", "AUTH=a=b", "junk", "AUTH=c"}}
	if p.get("APIHOST") != "h" || p.get("AUTH") != "c" || p.get("NONE") != "" {
		t.Fatalf("get: %q %q", p.get("APIHOST"), p.get("AUTH"))
	}
	p.set("AUTH", "x=y")
	p.set("NEW", "n")
	p.unset("APIHOST")
	want := []string{"# c", "AUTH=x=y", "junk", "NEW=n"}
	if len(p.lines) != len(want) {
		t.Fatalf("lines = %q, want %q", p.lines, want)
	}
	for i := range want {
		if p.lines[i] != want[i] {
			t.Fatalf("lines = %q, want %q", p.lines, want)
		}
	}
	if p.get("AUTH") != "x=y" {
		t.Fatalf("AUTH = %q", p.get("AUTH"))
	}
}
