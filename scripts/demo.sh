#!/usr/bin/env bash
# The main job, for now: build the two plugin bundles, ask each for VERSION the way libcni does,
# and feed them the sample conflist's calico config the way a runtime would. Networking (ADD/DEL)
# lands in later issues; until then ADD answers with the stable "not implemented yet" code 101.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/provision.sh >/dev/null
node scripts/build.mjs

# A runtime passes its PATH and the CNI_* variables (libcni's VERSION probe values).
runtime_env=(env -i "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

for bin in calico calico-ipam; do
  echo "--- CNI_COMMAND=VERSION dist/$bin"
  echo '{"cniVersion":"1.1.0"}' | "${runtime_env[@]}" CNI_COMMAND=VERSION CNI_CONTAINERID= \
    CNI_NETNS=dummy CNI_IFNAME=dummy CNI_PATH=dummy "dist/$bin"
done

conflist=scripts/sample/10-calico.conflist
echo "--- sample conflist ($conflist), as it would go into /etc/cni/net.d/"
cat "$conflist"

# libcni derives each plugin's stdin: the plugin object plus the list's name and cniVersion.
stdin=$(node -e '
  const list = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  process.stdout.write(JSON.stringify({ ...list.plugins[0], name: list.name, cniVersion: list.cniVersion }));
' "$conflist")

echo "--- ADD with the calico config from the conflist (input validated; networking not implemented yet)"
set +e
echo "$stdin" | "${runtime_env[@]}" CNI_COMMAND=ADD CNI_CONTAINERID=demo-1 \
  CNI_NETNS=/var/run/netns/demo CNI_IFNAME=eth0 CNI_PATH="$PWD/dist" dist/calico
echo "exit status $?"
echo "--- the same ADD with a 16-byte interface name"
echo "$stdin" | "${runtime_env[@]}" CNI_COMMAND=ADD CNI_CONTAINERID=demo-1 \
  CNI_NETNS=/var/run/netns/demo CNI_IFNAME=abcdefghijklmnop CNI_PATH="$PWD/dist" dist/calico
echo "exit status $?"
set -e
echo "--- done: install with  install -m 0755 dist/calico dist/calico-ipam /opt/cni/bin/"
