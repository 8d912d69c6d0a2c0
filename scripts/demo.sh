#!/usr/bin/env bash
# The main job, for now: build the two plugin bundles, ask each for VERSION the way libcni does,
# feed calico the sample conflist's config the way a runtime would (with a netns that does not
# exist: refused before anything changes), and run calico-ipam against a private etcd: pods on two
# nodes get addresses from per-node /26 blocks. The pod-network story end to end is in netns-tests/.
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

echo "--- ADD with the calico config from the conflist into a netns that does not exist (code 8)"
set +e
echo "$stdin" | "${runtime_env[@]}" CNI_COMMAND=ADD CNI_CONTAINERID=demo-1 \
  CNI_NETNS=/var/run/netns/demo CNI_IFNAME=eth0 CNI_PATH="$PWD/dist" dist/calico
echo "exit status $?"
echo "--- the same ADD with a 16-byte interface name"
echo "$stdin" | "${runtime_env[@]}" CNI_COMMAND=ADD CNI_CONTAINERID=demo-1 \
  CNI_NETNS=/var/run/netns/demo CNI_IFNAME=abcdefghijklmnop CNI_PATH="$PWD/dist" dist/calico
echo "exit status $?"
set -e

echo "--- calico-ipam on a private etcd (loopback, temporary data dir)"
work=$(mktemp -d)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
peer=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
endpoint="http://127.0.0.1:$port"
env -i PATH="$PATH" etcd --name demo --data-dir "$work/etcd" --listen-client-urls "$endpoint" \
  --advertise-client-urls "$endpoint" --listen-peer-urls "http://127.0.0.1:$peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "demo=http://127.0.0.1:$peer" \
  --log-level error >"$work/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill "$etcd_pid" 2>/dev/null; wait "$etcd_pid" 2>/dev/null; rm -rf "$work"' EXIT
etcdctl=(env -i PATH="$PATH" ETCDCTL_API=3 etcdctl --endpoints "$endpoint")
for _ in $(seq 50); do "${etcdctl[@]}" endpoint health >/dev/null 2>&1 && break; sleep 0.1; done

pool='{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"default-ipv4-ippool"},"spec":{"cidr":"10.1.0.0/16","blockSize":26,"ipipMode":"Never","natOutgoing":true,"nodeSelector":"all()"}}'
"${etcdctl[@]}" put /calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool "$pool" >/dev/null
echo "pool 10.1.0.0/16 (blockSize 26) written as raw Calico JSON with etcdctl"

ipam() { # node command container
  local conf
  conf=$(printf '{"cniVersion":"0.3.1","name":"k8s-pod-network","type":"calico","etcd_endpoints":"%s","nodename":"%s","ipam_lock_file":"%s/ipam.lock","ipam":{"type":"calico-ipam"}}' "$endpoint" "$1" "$work")
  echo "$conf" | "${runtime_env[@]}" CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS=/var/run/netns/"$3" \
    CNI_IFNAME=eth0 CNI_PATH="$PWD/dist" dist/calico-ipam
}
for pod in node-1:pod-a node-1:pod-b node-2:pod-c; do
  echo "ADD ${pod#*:} on ${pod%%:*}: $(ipam "${pod%%:*}" ADD "${pod#*:}")"
done
echo "--- what etcd holds (keys only; blocks, affinities and handles in Calico's layout)"
"${etcdctl[@]}" get --prefix --keys-only /calico | grep -v '^$'
for pod in node-1:pod-a node-1:pod-b node-2:pod-c; do ipam "${pod%%:*}" DEL "${pod#*:}"; done
echo "--- after DEL of all three: handles left: $("${etcdctl[@]}" get --prefix --keys-only /calico/ipam/v2/handle/ | grep -c . || true)"
echo "--- done: install with  install -m 0755 dist/calico dist/calico-ipam /opt/cni/bin/"
