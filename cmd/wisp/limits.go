package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/entity"
	"github.com/wispio/wisp/store"
)

// limitFlags are the flags of a namespace's own throttles, as OpenWhisk's
// wskadmin limits names them.
var limitFlags = []struct {
	name, usage string
	field       func(*entity.NamespaceLimits) **int
}{
	{"invocations-per-minute", "action invocations per minute", func(l *entity.NamespaceLimits) **int { return &l.InvocationsPerMinute }},
	{"concurrent-invocations", "activations in flight", func(l *entity.NamespaceLimits) **int { return &l.ConcurrentInvocations }},
	{"fires-per-minute", "trigger fires per minute", func(l *entity.NamespaceLimits) **int { return &l.FiresPerMinute }},
}

// addLimitFlags adds the limit flags to cmd; the returned function applies
// the ones given to base (a copy; nil when no limit is set).
func addLimitFlags(cmd *cobra.Command) func(cmd *cobra.Command, base *entity.NamespaceLimits) (*entity.NamespaceLimits, error) {
	values := make([]int, len(limitFlags))
	for i, f := range limitFlags {
		cmd.Flags().IntVar(&values[i], f.name, 0, "the namespace's own limit of "+f.usage+" (0 is unlimited; unset keeps the server's default)")
	}
	return func(cmd *cobra.Command, base *entity.NamespaceLimits) (*entity.NamespaceLimits, error) {
		return readLimitFlags(cmd, values, base)
	}
}

func readLimitFlags(cmd *cobra.Command, values []int, base *entity.NamespaceLimits) (*entity.NamespaceLimits, error) {
	var l entity.NamespaceLimits
	if base != nil {
		l = *base
	}
	for i, f := range limitFlags {
		if !cmd.Flags().Changed(f.name) {
			continue
		}
		if values[i] < 0 {
			return nil, fmt.Errorf("--%s: %d must be 0 (unlimited) or more", f.name, values[i])
		}
		v := values[i]
		*f.field(&l) = &v
	}
	if l.IsZero() {
		return nil, nil
	}
	return &l, nil
}

// newLimitsCommand is `wisp admin user limits NAME`: show, set or clear a
// namespace's own throttles.
func newLimitsCommand(data *string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "limits NAME",
		Short: "Show or set a namespace's own throttles (a running server reads them within a minute)",
		Args:  cobra.ExactArgs(1),
	}
	apply := addLimitFlags(cmd)
	var clear bool
	cmd.Flags().BoolVar(&clear, "clear", false, "remove the namespace's own limits: the server's defaults apply")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ns := args[0]
		return withStore(*data, func(st store.Store) error {
			sub, err := st.Subject(cmd.Context(), ns)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("namespace %q does not exist", ns)
			}
			if err != nil {
				return fmt.Errorf("read namespace %s: %w", ns, err)
			}
			limits := sub.Limits
			if clear {
				limits = nil
			}
			limits, err = apply(cmd, limits)
			if err != nil {
				return err
			}
			if clear || cmd.Flags().NFlag() > 0 {
				if err := st.SetSubjectLimits(cmd.Context(), ns, limits); err != nil {
					return fmt.Errorf("set limits of %s: %w", ns, err)
				}
			}
			printLimits(cmd.OutOrStdout(), ns, limits)
			return nil
		})
	}
	return cmd
}

func printLimits(out io.Writer, ns string, l *entity.NamespaceLimits) {
	var zero entity.NamespaceLimits
	if l == nil {
		l = &zero
	}
	for _, f := range limitFlags {
		v := "default"
		if p := *f.field(l); p != nil {
			v = strconv.Itoa(*p)
			if *p == 0 {
				v = "unlimited"
			}
		}
		fmt.Fprintf(out, "%s\t%s\t%s\n", ns, f.name, v)
	}
}
