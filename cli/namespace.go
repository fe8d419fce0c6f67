package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) namespaceCmd() *cobra.Command {
	list := a.leaf(&cobra.Command{Use: "list", Short: "list available namespaces"},
		func(ctx context.Context, _ *cobra.Command, args []string) error {
			if err := checkArgs(args, 0, 0, "No arguments are allowed."); err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			names, resp, err := c.ListNamespaces(ctx)
			if err != nil {
				return err
			}
			if a.json {
				a.printRaw(resp)
				return nil
			}
			fmt.Fprintln(a.out, "namespaces")
			for _, n := range names {
				fmt.Fprintln(a.out, n)
			}
			return nil
		})
	return a.group("namespace", "work with namespaces", list)
}
