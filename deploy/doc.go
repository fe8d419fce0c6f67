// Package deploy applies YAML projects: manifests in the format of OpenWhisk's
// wskdeploy (packages with actions, sequences, triggers with feeds and rules,
// bindings as dependencies), optionally with a deployment file that overrides
// inputs per environment.
//
// Parse reads a manifest into a Project, checking everything that needs no
// server; every problem is an *Error naming the YAML path and line. A
// Deployer then compares the project with what its namespace holds (Plan),
// applies the difference in dependency order, rolling back what it created
// when a step fails (Apply), or removes what the project owns (Undeploy).
// Ownership is the "managed" annotation every entity it creates carries;
// entities without it, or of another project, are never changed.
// It talks to the server only through package client.
package deploy
