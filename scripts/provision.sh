#!/usr/bin/env bash
# Installs what the build and the tests need on Debian 12, as root: Node 20+ must already be there
# (it is on the target machines); Debian packages are installed only when missing; node_modules
# comes from the lockfile with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "provision: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# iproute2: network namespaces for the harness; containernetworking-plugins: the reference ptp and
# host-local the conformance harness is proven against; etcd-server: the real datastore of the etcd
# tier (etcd-client for etcdctl); openssl: TLS test certificates; time: GNU time, the benchmark's
# peak RSS; iputils-ping: the demo's cross-node ping and hop list; golang-go +
# golang-github-appc-cni-dev: the libcni client, built offline in GOPATH mode; iptables: portmap in
# the chaining test; podman + runc + busybox-static: the podman test (crun fails in these
# containers, busybox-static becomes the test image); strace: the hostile-input fuzz run records
# every execve and file write of the plugins.
packages=(iproute2 containernetworking-plugins etcd-server etcd-client openssl time iputils-ping
  golang-go golang-github-appc-cni-dev iptables podman runc busybox-static strace)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "provision: missing Debian packages ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "provision: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci on CI or when node_modules is absent or older than the lockfile.
if [ "${CI:-}" = "true" ] || [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
