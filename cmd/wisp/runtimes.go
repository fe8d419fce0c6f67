package main

import (
	"fmt"
	"os"

	dclient "github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/server"
)

// newRuntimesCommand is `wisp runtimes build`: build (or refresh) the
// runtime images the Docker backend uses, as `wisp serve --invoker docker`
// does at start.
func newRuntimesCommand() *cobra.Command {
	runtimes := &cobra.Command{Use: "runtimes", Short: "Manage the runtime images of the Docker backend"}
	runtimes.AddCommand(&cobra.Command{
		Use:   "build",
		Short: "Build the runtime images from this machine's interpreters (no registry needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
			if err != nil {
				return fmt.Errorf("docker client: %w", err)
			}
			defer api.Close()
			wisp, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the wisp binary: %w", err)
			}
			for _, rt := range server.RuntimeImages(actions.DefaultKinds()) {
				if err := images.Ensure(cmd.Context(), api, rt, wisp); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ok: %s is image %s\n", rt.Kind, rt.Image)
			}
			return nil
		},
	})
	return runtimes
}
