package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/client"
)

func (a *app) propertyCmd() *cobra.Command {
	return a.group("property", "work with whisk properties",
		a.propertyGetCmd(), a.propertySetCmd(), a.propertyUnsetCmd())
}

func (a *app) propertyGetCmd() *cobra.Command {
	var f struct{ auth, apihost, apiversion, namespace, apibuild, apibuildno, all bool }
	cmd := a.leaf(&cobra.Command{Use: "get", Short: "get property"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 0, "No arguments are allowed."); err != nil {
				return err
			}
			if !(f.auth || f.apihost || f.apiversion || f.namespace || f.apibuild || f.apibuildno) {
				f.all = true
			}
			s, err := a.settings()
			if err != nil {
				return err
			}
			if a.json {
				return a.printValue(map[string]string{
					"apihost": s.APIHost, "auth": s.Auth, "namespace": s.Namespace, "apiversion": s.APIVersion,
				})
			}
			lines := []struct {
				show         bool
				label, value string
			}{
				{f.all || f.auth, "whisk auth\t\t", s.Auth},
				{f.all || f.apihost, "whisk API host\t\t", s.APIHost},
				{f.all || f.apiversion, "whisk API version\t", s.APIVersion},
				{f.all || f.namespace, "whisk namespace\t\t", s.Namespace},
			}
			for _, l := range lines {
				if l.show {
					fmt.Fprintf(a.out, "%s%s\n", l.label, l.value)
				}
			}
			if f.all || f.apibuild || f.apibuildno {
				return a.printBuild(ctx, f.all || f.apibuild, f.all || f.apibuildno)
			}
			return nil
		})
	fl := cmd.Flags()
	fl.BoolVar(&f.auth, "auth", false, "authorization key")
	fl.BoolVar(&f.apihost, "apihost", false, "whisk API host")
	fl.BoolVar(&f.apiversion, "apiversion", false, "whisk API version")
	fl.BoolVar(&f.namespace, "namespace", false, "whisk namespace")
	fl.BoolVar(&f.apibuild, "apibuild", false, "whisk API build version")
	fl.BoolVar(&f.apibuildno, "apibuildno", false, "whisk API build number")
	fl.BoolVar(&f.all, "all", false, "all properties")
	return cmd
}

// printBuild asks the server for its build; like wsk it prints "Unknown" and
// fails when the server cannot say.
func (a *app) printBuild(ctx context.Context, build, buildNo bool) error {
	name, number := "Unknown", "Unknown"
	c, _, err := a.client()
	if err == nil {
		info, _, infoErr := c.Info(ctx)
		if err = infoErr; err == nil {
			name, number = info.Build, info.BuildNo
		}
	}
	if build {
		fmt.Fprintf(a.out, "whisk API build\t\t%s\n", name)
	}
	if buildNo {
		fmt.Fprintf(a.out, "whisk API build number\t%s\n", number)
	}
	if err != nil {
		return fmt.Errorf("unable to obtain API build information: %w", err)
	}
	return nil
}

func (a *app) propertySetCmd() *cobra.Command {
	var f struct{ auth, apihost, apiversion, namespace string }
	cmd := a.leaf(&cobra.Command{Use: "set", Short: "set property"},
		func(_ context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 0, "No arguments are allowed."); err != nil {
				return err
			}
			path, err := propsPath()
			if err != nil {
				return err
			}
			p, err := readProps(path)
			if err != nil {
				return fmt.Errorf("unable to set the property value(s): %w", err)
			}
			var msgs []string
			if f.auth != "" {
				p.set("AUTH", f.auth)
				msgs = append(msgs, "ok: whisk auth set. Run 'wisp property get --auth' to see the new value.")
			}
			if f.apihost != "" {
				if _, err := client.BaseURL(f.apihost, ""); err != nil {
					return fmt.Errorf("unable to set API host value; the API host value '%s' is invalid: %w", f.apihost, err)
				}
				p.set("APIHOST", f.apihost)
				msgs = append(msgs, "ok: whisk API host set to "+f.apihost)
			}
			if f.apiversion != "" {
				p.set("APIVERSION", f.apiversion)
				msgs = append(msgs, "ok: whisk API version set to "+f.apiversion)
			}
			if f.namespace != "" {
				p.set("NAMESPACE", f.namespace)
				msgs = append(msgs, "ok: whisk namespace set to "+f.namespace)
			}
			if len(msgs) == 0 {
				return usageError{"Set at least one of --apihost, --auth, --apiversion or --namespace."}
			}
			if err := p.write(path); err != nil {
				return fmt.Errorf("unable to set the property value(s): %w", err)
			}
			for _, m := range msgs {
				fmt.Fprintln(a.out, m)
			}
			return nil
		})
	fl := cmd.Flags()
	fl.StringVarP(&f.auth, "auth", "u", "", "authorization `KEY`")
	fl.StringVar(&f.apihost, "apihost", "", "whisk API `HOST`")
	fl.StringVar(&f.apiversion, "apiversion", "", "whisk API `VERSION`")
	fl.StringVar(&f.namespace, "namespace", "", "whisk `NAMESPACE`")
	return cmd
}

func (a *app) propertyUnsetCmd() *cobra.Command {
	var f struct{ auth, apihost, apiversion, namespace bool }
	cmd := a.leaf(&cobra.Command{Use: "unset", Short: "unset property"},
		func(_ context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 0, "No arguments are allowed."); err != nil {
				return err
			}
			path, err := propsPath()
			if err != nil {
				return err
			}
			p, err := readProps(path)
			if err != nil {
				return fmt.Errorf("unable to unset the property value: %w", err)
			}
			var msgs []string
			if f.auth {
				p.unset("AUTH")
				msgs = append(msgs, "ok: whisk auth unset.")
			}
			if f.namespace {
				p.unset("NAMESPACE")
				msgs = append(msgs, "ok: whisk namespace unset; the default value of _ will be used.")
			}
			if f.apihost {
				p.unset("APIHOST")
				msgs = append(msgs, "ok: whisk API host unset.")
			}
			if f.apiversion {
				p.unset("APIVERSION")
				msgs = append(msgs, "ok: whisk API version unset; the default value of v1 will be used.")
			}
			if len(msgs) == 0 {
				return usageError{"Unset at least one of --apihost, --auth, --apiversion or --namespace."}
			}
			if err := p.write(path); err != nil {
				return fmt.Errorf("unable to unset the property value: %w", err)
			}
			for _, m := range msgs {
				fmt.Fprintln(a.out, m)
			}
			return nil
		})
	fl := cmd.Flags()
	fl.BoolVar(&f.auth, "auth", false, "authorization key")
	fl.BoolVar(&f.apihost, "apihost", false, "whisk API host")
	fl.BoolVar(&f.apiversion, "apiversion", false, "whisk API version")
	fl.BoolVar(&f.namespace, "namespace", false, "whisk namespace")
	return cmd
}

// printValue prints v as indented JSON (for --json output the CLI builds itself).
func (a *app) printValue(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	a.printJSON(data)
	return nil
}
