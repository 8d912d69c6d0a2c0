#!/usr/bin/env bash
# The main command (README): as root on a fresh Debian 12 machine, provisions what is missing,
# builds the bundles, and runs scripts/demo.ts: calicoctl, two simulated nodes with two pods each,
# a cross-node ping, and a full clean-up (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (it creates network namespaces)" >&2
  exit 1
fi
bash scripts/provision.sh >/dev/null
node scripts/build.mjs
exec node --import tsx scripts/demo.ts
