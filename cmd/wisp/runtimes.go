package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	dclient "github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/wispio/wisp/actions"
	"github.com/wispio/wisp/actions/images"
	"github.com/wispio/wisp/internal/progress"
	"github.com/wispio/wisp/server"
)

// newRuntimesCommand is `wisp runtimes build`: build (or refresh) the
// runtime images the Docker backend uses, as `wisp serve --invoker docker`
// does at start.
func newRuntimesCommand() *cobra.Command {
	runtimes := &cobra.Command{Use: "runtimes", Short: "Manage the runtime images of the Docker backend"}
	runtimes.AddCommand(&cobra.Command{
		Use:   "build [KIND...]",
		Short: "Build the runtime images from this machine's interpreters (no registry needed); only the KINDs given, if any",
		RunE: func(cmd *cobra.Command, kinds []string) error {
			rts, err := selectRuntimes(server.RuntimeImages(actions.DefaultKinds()), kinds)
			if err != nil {
				return err
			}
			api, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
			if err != nil {
				return fmt.Errorf("docker client: %w", err)
			}
			defer api.Close()
			wisp, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the wisp binary: %w", err)
			}
			ensure := func(ctx context.Context, rt images.Runtime) error { return images.Ensure(ctx, api, rt, wisp) }
			stderr := cmd.ErrOrStderr()
			p := progress.New(stderr, progress.Terminal(stderr))
			return buildRuntimes(cmd.Context(), rts, ensure, p, cmd.OutOrStdout())
		},
	})
	return runtimes
}

// buildRuntimes ensures each runtime's image in turn, reporting each to p
// as it begins, and then prints "ok: KIND is image IMAGE" on out for those
// that are in place (after the progress line is closed, so that a terminal
// shows both intact). It stops at the first failure.
func buildRuntimes(ctx context.Context, rts []images.Runtime, ensure func(context.Context, images.Runtime) error, p *progress.Reporter, out io.Writer) error {
	p.Start(len(rts), "runtimes")
	var built []images.Runtime
	var err error
	for _, rt := range rts {
		p.Step(fmt.Sprintf("build %s (%s)", rt.Kind, rt.Image))
		if err = ensure(ctx, rt); err != nil {
			break
		}
		built = append(built, rt)
	}
	p.Done()
	for _, rt := range built {
		fmt.Fprintf(out, "ok: %s is image %s\n", rt.Kind, rt.Image)
	}
	return err
}

// selectRuntimes keeps the runtimes of kinds, in the order of rts; all of
// them when kinds is empty. A kind this machine cannot build an image of
// (not in rts) is an error naming the ones it can.
func selectRuntimes(rts []images.Runtime, kinds []string) ([]images.Runtime, error) {
	if len(kinds) == 0 {
		return rts, nil
	}
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var all []string
	var sel []images.Runtime
	for _, rt := range rts {
		all = append(all, rt.Kind)
		if want[rt.Kind] {
			sel = append(sel, rt)
			delete(want, rt.Kind)
		}
	}
	for _, k := range kinds {
		if want[k] {
			return nil, fmt.Errorf("kind %q: no runtime image can be built for it on this machine (available: %s)", k, strings.Join(all, ", "))
		}
	}
	return sel, nil
}
