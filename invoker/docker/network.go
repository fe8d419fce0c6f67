package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/network"
)

// DefaultNetwork is the Docker network action containers join unless
// Config.Network names another.
const DefaultNetwork = "wisp-actions"

// iccOption is the bridge driver's switch for traffic between the
// containers of one network.
const iccOption = "com.docker.network.bridge.enable_icc"

// ensureNetwork makes the actions' network unless it exists: a bridge with
// inter-container traffic off, so that an action reaches the internet (and
// the host's published ports) but no other action container. Another
// invoker on the same engine may create it at the same time; the loser of
// that race finds the winner's.
func (b *Backend) ensureNetwork(ctx context.Context) error {
	name := b.cfg.Network
	for attempt := 0; ; attempt++ {
		info, err := b.api.NetworkInspect(ctx, name, network.InspectOptions{})
		if err == nil {
			if info.Driver == "bridge" && info.Options[iccOption] != "false" {
				b.log.Warn("the actions' Docker network lets containers reach each other", "network", name, "option", iccOption)
			}
			return nil
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("inspect network %s: %w", name, err)
		}
		if attempt > 0 {
			return fmt.Errorf("create network %s: it vanished after a concurrent create", name)
		}
		_, err = b.api.NetworkCreate(ctx, name, network.CreateOptions{
			Driver:  "bridge",
			Options: map[string]string{iccOption: "false"},
			Labels:  map[string]string{labelOwner: "network"},
		})
		if err == nil {
			b.log.Info("created the actions' Docker network", "network", name)
			return nil
		}
		if !cerrdefs.IsConflict(err) {
			return fmt.Errorf("create network %s: %w", name, err)
		}
	}
}

// newSecret returns a fresh random secret for one container's proxy.
func newSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("container secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
