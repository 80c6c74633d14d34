#!/bin/bash
# Runs one container with containerd's `ctr run --rm --cni`, entirely inside the caller's node
# netns and a private mount namespace (`ip netns exec` gives one): the CNI dirs containerd
# hard-codes (/etc/cni/net.d, /opt/cni/bin) and /var/lib (libcni's cache) are bind mounts of
# test directories there, so the host's own directories are never touched. `ip netns exec`
# remounts /sys, hiding the cgroup hierarchies runc needs, so they are mounted again.
#   ip netns exec NODE ctr-run.sh WORKDIR CONFDIR BINDIR ROOTFS NAME
set -euo pipefail
W=$1 CONF=$2 BIN=$3 ROOTFS=$4 NAME=$5
mkdir -p "$W/opt/cni/bin" "$W/varlib" "$W/root" "$W/state" "$W/runc"
cp "$BIN"/brindle "$BIN"/brindle-ipam "$W/opt/cni/bin/"
mount --bind "$CONF" /etc/cni/net.d
mount --bind "$W/opt" /opt
mount --bind "$W/varlib" /var/lib
mount -t tmpfs cgroup_root /sys/fs/cgroup
for h in cpu cpuacct cpuset memory devices freezer blkio pids; do
  mkdir -p /sys/fs/cgroup/$h && mount -t cgroup -o $h cgroup /sys/fs/cgroup/$h 2>/dev/null || rmdir /sys/fs/cgroup/$h
done
mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd 2>/dev/null || true
cat > "$W/containerd.toml" <<TOML
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$W/c.sock"
[ttrpc]
  address = "$W/c.sock.ttrpc"
TOML
containerd --config "$W/containerd.toml" >"$W/containerd.log" 2>&1 &
CPID=$!
trap 'kill $CPID 2>/dev/null; wait $CPID 2>/dev/null' EXIT
for i in $(seq 100); do [ -S "$W/c.sock" ] && break; sleep 0.1; done
ctr --address "$W/c.sock" -n brl run --rm --cni --runc-root "$W/runc" --env PATH=/bin --rootfs "$ROOTFS" "$NAME" sh -c \
  'ip -4 -o addr show dev eth0; ip -4 route; echo up > /tmp/up; i=0; while [ ! -e /tmp/stop ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done'
echo "ctr exited $?"
