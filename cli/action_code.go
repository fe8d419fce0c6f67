package cli

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// actionFlags are the flags of action create and update.
type actionFlags struct {
	kind, main, docker     string
	sequence               bool
	timeout, memory, logs  int
	concurrency            int
	paramFile, annotations string
}

func (f *actionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.kind, "kind", "", "the `KIND` of the action runtime (example: nodejs:20, python:default)")
	fl.StringVar(&f.main, "main", "", "the name of the action entry point (function or fully-qualified method name when applicable)")
	fl.StringVar(&f.docker, "docker", "", "use provided docker `IMAGE` to run the action")
	fl.BoolVar(&f.sequence, "sequence", false, "treat ACTION as comma separated sequence of actions to invoke")
	fl.IntVarP(&f.timeout, "timeout", "t", 60000, "the timeout `LIMIT` in milliseconds after which the action is terminated")
	fl.IntVarP(&f.memory, "memory", "m", 256, "the maximum memory `LIMIT` in MB for the action")
	fl.IntVarP(&f.logs, "logsize", "l", 10, "the maximum log size `LIMIT` in MB for the action")
	fl.IntVarP(&f.concurrency, "concurrency", "c", 1, "the maximum intra-container concurrent activation `LIMIT` for the action")
	fl.StringVarP(&f.paramFile, "param-file", "P", "", "`FILE` containing parameter values in JSON format")
	fl.StringVarP(&f.annotations, "annotation-file", "A", "", "`FILE` containing annotation values in JSON format")
	addPairFlags(cmd, true)
}

// limits holds the limits given on the command line; nil when none was.
func (f *actionFlags) limits(cmd *cobra.Command) *client.Limits {
	var l client.Limits
	set := false
	for _, lim := range []struct {
		flag  string
		value int
		dst   **int
	}{
		{"timeout", f.timeout, &l.Timeout},
		{"memory", f.memory, &l.Memory},
		{"logsize", f.logs, &l.Logs},
		{"concurrency", f.concurrency, &l.Concurrency},
	} {
		if cmd.Flags().Changed(lim.flag) {
			v := lim.value
			*lim.dst, set = &v, true
		}
	}
	if !set {
		return nil
	}
	return &l
}

// kindsByExtension is how wsk infers a kind from the artifact's extension.
var kindsByExtension = map[string]string{
	".js":    "nodejs:default",
	".py":    "python:default",
	".swift": "swift:default",
	".jar":   "java:default",
	".java":  "java:default",
	".php":   "php:default",
	".rb":    "ruby:default",
	".rs":    "rust:default",
	".go":    "go:default",
	".balx":  "ballerina:default",
}

// binaryExtensions are artifacts sent base64 encoded with binary set.
var binaryExtensions = map[string]bool{".zip": true, ".jar": true, ".balx": true}

// exec builds the action's exec from the artifact argument and the flags;
// nil (keep the current code) for an update without artifact.
func (f *actionFlags) exec(artifact string, update bool, namespace string) (*client.Exec, error) {
	if f.kind != "" && f.docker != "" {
		return nil, usageError{"Cannot specify both --kind and --docker at the same time."}
	}
	if f.sequence {
		if artifact == "" {
			return nil, usageError{"An action name and code artifact are required."}
		}
		return sequenceExec(artifact, namespace)
	}
	if artifact == "" && f.docker == "" {
		if update {
			return nil, nil
		}
		return nil, usageError{"An action name and code artifact are required."}
	}
	exec := &client.Exec{Kind: f.kind, Main: f.main}
	ext := strings.ToLower(filepath.Ext(artifact))
	if artifact != "" {
		code, err := os.ReadFile(artifact)
		if err != nil {
			return nil, fmt.Errorf("read action code: %w", err)
		}
		exec.Code = string(code)
		if binaryExtensions[ext] || family(f.kind) == "native" { // native code is an executable
			exec.Code, exec.Binary = base64.StdEncoding.EncodeToString(code), true
		}
		if err := f.precompile(exec, artifact, ext); err != nil {
			return nil, err
		}
	}
	switch {
	case exec.Kind != "":
	case f.docker != "":
		exec.Kind, exec.Image = "blackbox", f.docker
	case ext == ".zip":
		return nil, usageError{"creating an action from a .zip artifact requires specifying the action kind explicitly"}
	case kindsByExtension[ext] != "":
		exec.Kind = kindsByExtension[ext]
	default:
		return nil, usageError{fmt.Sprintf("'%s' is not a supported action runtime", ext)}
	}
	if exec.Main == "" && strings.HasPrefix(exec.Kind, "java") {
		return nil, usageError{"Java actions require --main to specify the fully-qualified name of the main class"}
	}
	return exec, nil
}

// precompile replaces a .go or .java artifact's source with what its
// runtime runs (compile.go).
func (f *actionFlags) precompile(exec *client.Exec, artifact, ext string) error {
	k := family(f.kind)
	switch {
	case ext == ".go" && (k == "" || k == "go"):
		exe, ok, err := precompileGo(context.Background(), artifact, f.main)
		if err != nil || !ok {
			return err
		}
		exec.Code, exec.Binary = base64.StdEncoding.EncodeToString(exe), true
	case ext == ".java" && (k == "" || k == "java"):
		jar, err := compileJava(context.Background(), artifact)
		if err != nil {
			return err
		}
		exec.Code, exec.Binary = base64.StdEncoding.EncodeToString(jar), true
	}
	return nil
}

// family is the lower-case part of a kind before the colon ("nodejs" of
// "nodejs:20").
func family(kind string) string {
	f, _, _ := strings.Cut(kind, ":")
	return strings.ToLower(f)
}

// sequenceExec qualifies each comma-separated component with namespace.
func sequenceExec(list, namespace string) (*client.Exec, error) {
	exec := &client.Exec{Kind: "sequence"}
	for _, name := range strings.Split(list, ",") {
		qn, err := client.ParseName(strings.TrimSpace(name), namespace)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		exec.Components = append(exec.Components, qn.String())
	}
	return exec, nil
}

// codeExtensions is the file extension wsk saves each runtime's code under.
var codeExtensions = map[string]string{
	"nodejs": ".js", "python": ".py", "swift": ".swift", "php": ".php",
	"ruby": ".rb", "rust": ".rs", "go": ".go",
}

// saveCode writes an action's code to filename (derived from the action name
// when empty) in the working directory and returns the absolute path.
func saveCode(act *client.Action, filename string) (string, error) {
	if act.Exec == nil {
		return "", errors.New("the server returned no code for the action")
	}
	runtime := family(act.Exec.Kind)
	switch {
	case runtime == "sequence":
		return "", errors.New("cannot save action sequences")
	case runtime == "blackbox" && act.Exec.Code == "":
		return "", errors.New("cannot save Docker images")
	}
	code := []byte(act.Exec.Code)
	ext := codeExtensions[runtime]
	if act.Exec.Binary {
		decoded, err := base64.StdEncoding.DecodeString(act.Exec.Code)
		if err != nil {
			return "", fmt.Errorf("decode action code: %w", err)
		}
		code, ext = decoded, ".zip"
		switch {
		case runtime == "java":
			ext = ".jar"
		case runtime == "native" && !strings.HasPrefix(string(decoded), "PK\x03\x04"):
			ext = "" // the executable itself
		}
	}
	if filename == "" {
		filename = act.Name + ext
	}
	if _, err := os.Stat(filename); err == nil {
		return "", fmt.Errorf("the file '%s' already exists", filename)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("check %s: %w", filename, err)
	}
	if err := os.WriteFile(filename, code, 0o644); err != nil {
		return "", fmt.Errorf("save action code: %w", err)
	}
	if abs, err := filepath.Abs(filename); err == nil {
		filename = abs
	}
	return filename, nil
}
