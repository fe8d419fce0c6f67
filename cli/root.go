package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

// app holds what every command shares: the streams, the global flags and the
// knobs tests turn. Commands are built per NewRoot, so nothing here is global.
type app struct {
	in          io.Reader
	out, errOut io.Writer

	apihost  string // --apihost
	auth     string // --auth, -u
	insecure bool   // --insecure, -i
	json     bool   // --json

	pollInterval time.Duration  // between activation polls
	location     *time.Location // for the Datetime column of activation lists
}

// NewRoot builds the "wisp" command with the client subcommands (property,
// action, activation, namespace) and the global flags --apihost, --auth/-u,
// --insecure/-i and --json. Client commands print their own failures as
// "error: ..." on stderr and return an error for which IsReported is true.
// The root silences cobra's error printing: the caller adds the server
// subcommands, prints the errors that are not reported, and exits non-zero.
func NewRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	return newApp(stdin, stdout, stderr).root()
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{in: stdin, out: stdout, errOut: stderr, pollInterval: 2 * time.Second, location: time.Local}
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "wisp",
		Short:         "Wisp, an OpenWhisk-compatible serverless platform",
		SilenceErrors: true,
		// Usage helps with a mistyped command line, not with a failure at run time.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			return nil
		},
	}
	root.SetIn(a.in)
	root.SetOut(a.out)
	root.SetErr(a.errOut)
	pf := root.PersistentFlags()
	pf.StringVar(&a.apihost, "apihost", "", "whisk API `HOST` (overrides APIHOST in .wskprops and $WISP_APIHOST)")
	pf.StringVarP(&a.auth, "auth", "u", "", "authorization `KEY` (overrides AUTH in .wskprops and $WISP_AUTH)")
	pf.BoolVarP(&a.insecure, "insecure", "i", false, "bypass certificate checking")
	pf.BoolVar(&a.json, "json", false, "print the JSON the server returned")
	root.AddCommand(a.propertyCmd(), a.actionCmd(), a.activationCmd(), a.namespaceCmd(),
		a.triggerCmd(), a.ruleCmd(), a.packageCmd(), a.listAllCmd(),
		a.deployCmd(), a.undeployCmd(), a.apiCmd())
	return root
}

// group builds a parent command whose subcommands share the CLI's error style.
// Alone it prints its help; with an unknown subcommand it fails.
func (a *app) group(use, short string, children ...*cobra.Command) *cobra.Command {
	cmd := a.leaf(&cobra.Command{Use: use, Short: short},
		func(_ context.Context, c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())}
			}
			if err := c.Help(); err != nil {
				return fmt.Errorf("print help: %w", err)
			}
			return nil
		})
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		c.SilenceUsage = true
		a.printError(c, usageError{err.Error()})
		return reportedError{err}
	})
	cmd.AddCommand(children...)
	return cmd
}

// leaf builds a runnable command: it prints the error run returns and returns
// it marked as reported.
func (a *app) leaf(cmd *cobra.Command, run func(ctx context.Context, cmd *cobra.Command, args []string) error) *cobra.Command {
	cmd.SilenceUsage = true
	cmd.RunE = func(c *cobra.Command, args []string) error {
		err := run(c.Context(), c, args) // cobra supplies Background when Execute got no context
		switch {
		case err == nil || errors.Is(err, errHelp):
			return nil
		case IsReported(err):
			return err
		}
		a.printError(c, err)
		return reportedError{err}
	}
	return cmd
}

// IsReported tells whether a command of this package has already printed err
// on stderr, so the caller only has to exit non-zero. The error still wraps
// the cause: errors.As finds a *client.Error in it.
func IsReported(err error) bool {
	var reported reportedError
	return errors.As(err, &reported)
}

// errHelp ends a command that printed its help instead of running.
var errHelp = errors.New("help requested")

// usageError is a mistake on the command line; its message is followed by a
// pointer to the command's help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// reportedError is a failure already described on stderr; it is returned so
// the process exits non-zero, and IsReported recognises it.
type reportedError struct{ err error }

func (e reportedError) Error() string { return e.err.Error() }
func (e reportedError) Unwrap() error { return e.err }

// printError prints err the way wsk does: the server's message and code alone
// for API errors, the message for the rest.
func (a *app) printError(cmd *cobra.Command, err error) {
	var reported reportedError
	var apiErr *client.Error
	var usage usageError
	switch {
	case errors.As(err, &reported): // described already
	case errors.As(err, &apiErr):
		fmt.Fprintf(a.errOut, "error: %s\n", apiErr.Error())
	case errors.As(err, &usage):
		fmt.Fprintf(a.errOut, "error: %s\nRun '%s --help' for usage.\n", usage.msg, cmd.CommandPath())
	default:
		fmt.Fprintf(a.errOut, "error: %s\n", err)
	}
}

// checkArgs enforces the number of positional arguments with wsk's wording.
func checkArgs(args []string, least, most int, required string) error {
	switch {
	case len(args) < least:
		return usageError{"Invalid argument(s). " + required}
	case len(args) > most:
		return usageError{fmt.Sprintf("Invalid argument(s): %v. %s", args[most:], required)}
	}
	return nil
}

// settings are the effective connection properties.
type settings struct {
	APIHost, Auth, Namespace, APIVersion string
}

// settings merges .wskprops, then $WISP_APIHOST and $WISP_AUTH, then the flags.
func (a *app) settings() (settings, error) {
	path, err := propsPath()
	if err != nil {
		return settings{}, err
	}
	p, err := readProps(path)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		APIHost:    p.get("APIHOST"),
		Auth:       p.get("AUTH"),
		Namespace:  p.get("NAMESPACE"),
		APIVersion: p.get("APIVERSION"),
	}
	for _, o := range []struct {
		dst       *string
		env, flag string
	}{
		{&s.APIHost, os.Getenv("WISP_APIHOST"), a.apihost},
		{&s.Auth, os.Getenv("WISP_AUTH"), a.auth},
	} {
		if o.env != "" {
			*o.dst = o.env
		}
		if o.flag != "" {
			*o.dst = o.flag
		}
	}
	if s.Namespace == "" {
		s.Namespace = client.DefaultNamespace
	}
	if s.APIVersion == "" {
		s.APIVersion = "v1"
	}
	return s, nil
}

// client builds an API client from the effective settings.
// clientFor returns the client and the fully qualified form of name; a
// name that does not parse is a usage error.
func (a *app) clientFor(name string) (*client.Client, client.QualifiedName, error) {
	c, _, err := a.client()
	if err != nil {
		return nil, client.QualifiedName{}, err
	}
	qn, err := c.ParseName(name)
	if err != nil {
		return nil, client.QualifiedName{}, usageError{err.Error()}
	}
	return c, qn, nil
}

func (a *app) client() (*client.Client, settings, error) {
	s, err := a.settings()
	if err != nil {
		return nil, s, err
	}
	if s.APIHost == "" {
		return nil, s, errors.New("the API host is not set; run 'wisp property set --apihost HOST', or use --apihost or $WISP_APIHOST")
	}
	if _, err := client.BaseURL(s.APIHost, s.APIVersion); err != nil {
		return nil, s, fmt.Errorf("the API host %q is not valid: %w", s.APIHost, err)
	}
	c := client.New(client.Config{
		APIHost:    s.APIHost,
		Auth:       s.Auth,
		Namespace:  s.Namespace,
		APIVersion: s.APIVersion,
		Insecure:   a.insecure,
	})
	return c, s, nil
}
