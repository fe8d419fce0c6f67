package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/server"
	"github.com/wispio/wisp/store"
)

func newAdminCommand() *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Administer namespaces and keys (works on the data folder directly)"}
	var data string
	admin.PersistentFlags().StringVar(&data, "data", defaultDataDir(), "data folder of the server")
	user := &cobra.Command{Use: "user", Short: "Manage namespaces and their keys"}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a namespace; prints its uuid:key as the last line",
		Args:  cobra.ExactArgs(1),
	}
	createLimits := addLimitFlags(create)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		limits, err := createLimits(cmd, nil)
		if err != nil {
			return err
		}
		return withStore(data, func(st store.Store) error {
			creds, err := createSubject(cmd.Context(), st, args[0], limits)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: created namespace %s\n%s\n", args[0], creds)
			return nil
		})
	}
	user.AddCommand(
		create,
		newLimitsCommand(&data),
		&cobra.Command{
			Use:   "list",
			Short: "List namespaces",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withStore(data, func(st store.Store) error {
					subs, err := st.Subjects(cmd.Context())
					if err != nil {
						return err
					}
					for _, s := range subs {
						fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", s.Namespace, s.UUID)
					}
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "delete NAME",
			Short: "Delete a namespace's key (its entities stay)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withStore(data, func(st store.Store) error {
					if err := st.DeleteSubject(cmd.Context(), args[0]); err != nil {
						return fmt.Errorf("delete namespace %s: %w", args[0], err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "ok: deleted namespace %s\n", args[0])
					return nil
				})
			},
		},
	)
	admin.AddCommand(user)
	return admin
}

func withStore(data string, fn func(store.Store) error) error {
	st, err := server.OpenStore(data, 2*time.Second)
	if err != nil {
		return err
	}
	err = fn(st)
	return errors.Join(err, st.Close())
}

// createSubject creates namespace name with fresh credentials.
func createSubject(ctx context.Context, st store.Store, name string, limits *entity.NamespaceLimits) (entity.Credentials, error) {
	if err := entity.ValidateName("namespace", name); err != nil {
		return entity.Credentials{}, err
	}
	creds := entity.NewCredentials()
	err := st.CreateSubject(ctx, entity.Subject{
		Namespace: name, UUID: creds.UUID, KeyHash: entity.HashKey(creds.Key), Created: time.Now().UnixMilli(),
		Limits: limits,
	})
	if errors.Is(err, store.ErrConflict) {
		return entity.Credentials{}, fmt.Errorf("namespace %q already exists", name)
	}
	if err != nil {
		return entity.Credentials{}, fmt.Errorf("create namespace %s: %w", name, err)
	}
	return creds, nil
}

// ensureGuest creates namespace guest on first start, prints its key and
// writes ~/.wskprops when that file is absent.
func ensureGuest(ctx context.Context, st store.Store, addr string, out io.Writer) error {
	subs, err := st.Subjects(ctx)
	if err != nil {
		return fmt.Errorf("read namespaces: %w", err)
	}
	if len(subs) > 0 {
		return nil
	}
	creds, err := createSubject(ctx, st, "guest", nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Created namespace guest. Its key (shown once, stored hashed):\n%s\n", creds)
	path, wrote, err := writeWskprops("http://"+addr, creds.String(), "guest")
	switch {
	case err != nil:
		fmt.Fprintf(out, "Could not write %s: %v\n", path, err)
	case wrote:
		fmt.Fprintf(out, "Wrote %s (APIHOST, AUTH, NAMESPACE) for wisp and wsk.\n", path)
	default:
		fmt.Fprintf(out, "%s exists and was left as it is; set it with: wisp property set --apihost http://%s --auth %s\n", path, addr, creds)
	}
	return nil
}

// writeWskprops writes the client properties file unless it exists.
func writeWskprops(apihost, auth, namespace string) (string, bool, error) {
	path := os.Getenv("WSK_CONFIG_FILE")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ".wskprops", false, err
		}
		path = filepath.Join(home, ".wskprops")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return path, false, nil
	}
	if err != nil {
		return path, false, err
	}
	_, err = fmt.Fprintf(f, "APIHOST=%s\nAUTH=%s\nNAMESPACE=%s\n", apihost, auth, namespace)
	return path, err == nil, errors.Join(err, f.Close())
}
