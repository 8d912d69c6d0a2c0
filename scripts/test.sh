#!/usr/bin/env bash
# The one command that runs every test: provisions what is missing, then `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh
npm test
