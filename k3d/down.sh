#!/usr/bin/env bash
# Delete the k3d cluster made by up.sh.
set -euo pipefail
k3d cluster delete gitops-sim
rm -f "$(cd "$(dirname "$0")" && pwd)/kubeconfig"
