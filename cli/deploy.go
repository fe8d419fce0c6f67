package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wispio/wisp/deploy"
	"github.com/wispio/wisp/internal/progress"
)

// deployFlags are the flags of deploy and undeploy.
type deployFlags struct {
	manifest, deployment, project string
	plan, adopt, verbose          bool
}

func (a *app) deployCmd() *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "create or update the packages, actions, sequences, triggers and rules of a YAML manifest",
		Long: "deploy applies a manifest in the wskdeploy format: it creates what is missing, updates what changed\n" +
			"and deletes what the project owns and the manifest no longer declares. --plan shows the changes\n" +
			"without making them. Entities that the project does not own are never changed (--adopt takes them over).",
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.manifest, "manifest", "m", "", "the manifest `FILE` (default manifest.yaml or manifest.yml)")
	fl.StringVarP(&f.deployment, "deployment", "d", "", "a deployment `FILE` overriding the manifest's inputs")
	fl.StringVar(&f.project, "project", "", "the project `NAME` when the manifest has no project.name (default: its folder's name)")
	fl.BoolVar(&f.plan, "plan", false, "print what would change and change nothing")
	fl.BoolVar(&f.adopt, "adopt", false, "take over existing entities the project does not own instead of failing")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "list unchanged entities too")
	return a.leaf(cmd, func(ctx context.Context, _ *cobra.Command, args []string) error {
		if err := checkArgs(args, 0, 0, "deploy takes no arguments; give the manifest with -m."); err != nil {
			return err
		}
		return a.deploy(ctx, f)
	})
}

func (a *app) undeployCmd() *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "undeploy",
		Short: "delete everything a YAML project owns",
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.manifest, "manifest", "m", "", "the manifest `FILE` naming the project (default manifest.yaml or manifest.yml)")
	fl.StringVar(&f.project, "project", "", "the project `NAME` (instead of reading it from the manifest)")
	fl.BoolVar(&f.plan, "plan", false, "print what would be deleted and delete nothing")
	return a.leaf(cmd, func(ctx context.Context, _ *cobra.Command, args []string) error {
		if err := checkArgs(args, 0, 0, "undeploy takes no arguments; give the manifest with -m."); err != nil {
			return err
		}
		return a.undeploy(ctx, f)
	})
}

func (a *app) deployer() (*deploy.Deployer, error) {
	c, s, err := a.client()
	if err != nil {
		return nil, err
	}
	return deploy.New(c, s.Auth, slog.New(slog.DiscardHandler)), nil
}

func (a *app) deploy(ctx context.Context, f *deployFlags) error {
	manifest, err := manifestPath(f.manifest)
	if err != nil {
		return err
	}
	project, err := deploy.Load(manifest, f.deployment, os.LookupEnv)
	if err != nil {
		return a.manifestError(manifest, err)
	}
	if f.project != "" {
		project.Name = f.project
	}
	for _, w := range project.Warnings {
		fmt.Fprintf(a.errOut, "warning: %s\n", w)
	}
	d, err := a.deployer()
	if err != nil {
		return err
	}
	plan, err := d.Plan(ctx, project, deploy.PlanOptions{File: filepath.Base(manifest), Adopt: f.adopt})
	if err != nil {
		return a.manifestError(manifest, err)
	}
	plan.Write(a.out, f.verbose)
	if f.plan {
		return nil
	}
	if plan.Empty() {
		fmt.Fprintf(a.out, "ok: project %s is up to date\n", plan.Project)
		return nil
	}
	if _, err := d.ApplyReporting(ctx, plan, a.progress()); err != nil {
		return fmt.Errorf("deploy project %s: %w", plan.Project, err)
	}
	fmt.Fprintf(a.out, "ok: deployed project %s\n", plan.Project)
	return nil
}

func (a *app) undeploy(ctx context.Context, f *deployFlags) error {
	name := f.project
	if name == "" {
		manifest, err := manifestPath(f.manifest)
		if err != nil {
			return err
		}
		if name, err = deploy.ProjectName(manifest); err != nil {
			return a.manifestError(manifest, err)
		}
	}
	d, err := a.deployer()
	if err != nil {
		return err
	}
	plan, err := d.PlanUndeploy(ctx, name)
	if err != nil {
		return err
	}
	plan.Write(a.out, false)
	if f.plan {
		return nil
	}
	if _, err := d.ApplyReporting(ctx, plan, a.progress()); err != nil {
		return fmt.Errorf("undeploy project %s: %w", plan.Project, err)
	}
	fmt.Fprintf(a.out, "ok: undeployed project %s\n", plan.Project)
	return nil
}

// progress reports the steps of a deploy on stderr, leaving stdout to the
// plan and the result: a redrawn bar on a terminal, counted lines elsewhere.
func (a *app) progress() *progress.Reporter {
	return progress.New(a.errOut, progress.Terminal(a.errOut))
}

// manifestPath is the -m flag, or manifest.yaml / manifest.yml here.
func manifestPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	for _, name := range []string{"manifest.yaml", "manifest.yml"} {
		if _, err := os.Stat(name); err == nil {
			return name, nil
		}
	}
	return "", usageError{"no manifest.yaml or manifest.yml here; give the manifest with -m FILE"}
}

// manifestError prints the problems of a manifest one per line.
func (a *app) manifestError(manifest string, err error) error {
	var errs deploy.Errors
	if !errors.As(err, &errs) {
		return err
	}
	fmt.Fprintf(a.errOut, "error: %s: %d problem(s):\n", manifest, len(errs))
	for _, e := range errs {
		fmt.Fprintf(a.errOut, "  %s\n", e)
	}
	return reportedError{err}
}
