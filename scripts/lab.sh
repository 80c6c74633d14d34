#!/usr/bin/env bash
# `make lab`: a Brindle cluster on this machine (root). Three nodes in network namespaces with their
# agents (nftables, BIRD), workloads made through the real CNI plugin, a policy set, and the
# connectivity matrix PROBED on the kernel before and after, checked against `brindle policy
# matrix`. Everything lives in namespaces brl-demo-*; nothing in the root namespace changes.
# The lab stays up for exploring; `node bin/brindle.js lab down` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/src/cli/main.js ]; then
  echo "Brindle is not built yet: run 'make lab' (installs what is missing, builds, then runs this) or 'make build' first." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "The lab makes network namespaces and needs root. Without root, 'make policy-demo' shows the policy calculation alone." >&2
  exit 1
fi
export BRINDLE_LAB="${BRINDLE_LAB:-demo}"
NODES="${LAB_NODES:-3}"
ROUTING="${LAB_ROUTING:-bgp}"
ex=examples/lab
start=$SECONDS

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; off=$'\033[0m'; else bold=''; dim=''; off=''; fi
section() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$off"; }
run() {
  printf '%s$ brindle %s%s\n' "$bold" "$*" "$off"
  node bin/brindle.js "$@"
}
# The agents apply a change within a moment: probe until the kernel agrees with the calculation
# (bounded: 10 tries), then show the matrix.
converged_matrix() {
  for _ in $(seq 1 10); do
    node bin/brindle.js lab matrix --expect "$@" -o json >/dev/null 2>&1 && break
    sleep 0.5
  done
  run lab matrix --expect "$@" || note "(the kernel and the calculation disagree on the cells listed above)"
}

cat <<EOF
${bold}Brindle lab${off}: a ${NODES}-node cluster in network namespaces on this machine (routing ${ROUTING}).
Every "." and "X" below is a real TCP connection attempt between workloads, answered by the
kernel (nftables rules the agents wrote from policy), and compared with 'brindle policy matrix'.
EOF

section "1. The cluster: fabric, nodes, datastore, agents, BGP"
node bin/brindle.js lab down >/dev/null 2>&1 || true   # a fresh demo every time
run lab up --nodes "$NODES" --routing "$ROUTING"
eval "$(node bin/brindle.js lab env)"
note "BRINDLE_DATASTORE=$BRINDLE_DATASTORE (brindle apply/get/policy use it)"

section "2. Two namespaces and five workloads, made through the CNI plugin as a kubelet would"
run apply -f "$ex/00-namespaces.yaml"
run lab workload add --node node-1 shop/frontend --labels app=frontend --serve 80/tcp,5432/tcp
run lab workload add --node node-2 shop/api --labels app=api --serve 80/tcp,5432/tcp
run lab workload add --node node-3 shop/legacy --labels app=legacy,quarantine=true --serve 80/tcp,5432/tcp
run lab workload add --node node-3 data/db --labels app=db --serve 80/tcp,5432/tcp
run lab workload add --node node-1 data/backup --labels app=backup --serve 80/tcp,5432/tcp
run lab status
run get workloadendpoints -A -o wide

section "3. Before any policy: who reaches whom on TCP 5432? (probed)"
converged_matrix --port 5432 --protocol tcp

section "4. A policy set: tier admin (quarantine), default deny in namespace data, an allow by label"
run apply -f "$ex/01-policies.yaml"
converged_matrix --port 5432 --protocol tcp
note "Only shop/api and data/backup reach data/db; nothing reaches data/backup; nothing accepts"
note "traffic from shop/legacy (quarantined). The diagonal is loopback: never policed, not compared."

section "5. Why can't the frontend reach the database?"
# policy explain names workloads by their WorkloadEndpoint; the lab by pod: the address links them.
status_field() { node bin/brindle.js lab status -o json | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const s=JSON.parse(t);const [kind,key,field]=process.argv.slice(1);const x=(kind==="node"?s.nodes.find(n=>n.name===key):s.workloads.find(w=>w.workload===key));console.log(x[field]);});' "$@"; }
frontend_ip=$(status_field workload shop/frontend ip)
db_ip=$(status_field workload data/db ip)
run policy explain --from "$frontend_ip" --to "$db_ip" --protocol TCP --port 5432
note "The kernel counted it too: the agent of node-3 (where data/db runs) reports per-rule counters."
node bin/brindle.js lab probe shop/frontend data/db --port 5432 --protocol tcp >/dev/null || true
node3_run=$(status_field node node-3 runDir)
printf '%s$ brindle policy counters --node node-3 --run-dir %s   (rows of data/db and tier admin)%s\n' "$bold" "$node3_run" "$off"
node bin/brindle.js policy counters --node node-3 --run-dir "$node3_run" | awk 'NR == 1 || /db|admin/'

section "Explore, then tear down"
cat <<EOF
The lab is still up (this demo took $((SECONDS - start)) s). Try:
  eval "\$(node bin/brindle.js lab env)"                 # point brindle at the lab's datastore
  node bin/brindle.js lab status                         # nodes, agents, BGP sessions, workloads
  node bin/brindle.js lab probe shop/api data/db --port 5432 --protocol tcp
  node bin/brindle.js lab exec shop/frontend -- ip route
  node bin/brindle.js lab matrix --port 80 --protocol tcp --expect
  node bin/brindle.js lab workload add --node node-2 data/report --labels app=backup --serve 5432/tcp
  node bin/brindle.js policy matrix --protocol TCP --port 5432
  ip netns exec brl-${BRINDLE_LAB}-n-node-1 nft list table inet brindle   # the rules on node-1
Tear down (removes every namespace, process and file of the lab):
  node bin/brindle.js lab down
EOF
