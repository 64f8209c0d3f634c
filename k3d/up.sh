#!/usr/bin/env bash
# Create the k3d cluster and write its kubeconfig next to this script. Needs Docker and k3d.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k3d cluster create --config "$here/cluster.yaml"
k3d kubeconfig get gitops-sim > "$here/kubeconfig"
echo "kubeconfig: $here/kubeconfig"
