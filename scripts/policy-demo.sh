#!/usr/bin/env bash
# `make policy-demo` (no root needed): Brindle's policy calculation on its own, on the embedded
# SQLite datastore (a temporary file, removed at the end): a small shop in two namespaces, a layered
# policy set, and what `brindle policy matrix | explain | preview` say about it.
#
# Honest scope: the verdicts are computed by the same calculation code the node agent feeds its
# dataplane with; no packets are sent and no kernel state is touched. `make lab` (root) runs the
# real thing: nodes, workloads and probes in network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/src/cli/main.js ]; then
  echo "Brindle is not built yet: run 'make policy-demo' (installs what is missing, builds, then runs this demo) or 'make build' first." >&2
  exit 1
fi

work="$(mktemp -d -t brindle-policy-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export BRINDLE_DATASTORE="sqlite:$work/brindle.db"
demo=examples/demo

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; off=$'\033[0m'; else bold=''; dim=''; off=''; fi
section() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
note() { printf '%s%s%s\n' "$dim" "$*" "$off"; }
run() {
  printf '%s$ brindle %s%s\n' "$bold" "$*" "$off"
  node bin/brindle.js "$@"
}

cat <<EOF
${bold}Brindle policy demo (computed, no root needed)${off}
Brindle is a Layer-3 network for containers, VMs and hosts in the shape of Project Calico. This demo
stores a small shop's endpoints and policies in an embedded SQLite datastore ($work/brindle.db)
and asks Brindle which flows its policy allows.

What is real: the datastore, validation, Kubernetes-policy conversion and the policy calculation
(tiers, selectors, IP sets, named ports) are the code the node agent runs.
What is simulated: no workloads run and no packets are sent. Every "." and "X" below is a verdict
computed from policy, not a probe.
EOF

section "1. A shop in two namespaces: shop/frontend, shop/api, data/db, data/backup"
note "Namespaces become profiles kns.<name>; the CNI plugin would normally write the workload endpoints."
run apply -f "$demo/00-namespaces.yaml" -f "$demo/01-endpoints.yaml"
run get workloadendpoints -A -o wide

section "2. Before any policy: who can reach the database port (TCP 5432)?"
note "With no policy, the namespace profiles allow everything, as in Kubernetes."
run policy matrix --protocol TCP --port 5432

section "3. A layered policy set"
note "Tier admin (order 100): deny quarantined pods and the metadata service, Pass everything else on."
note "Tier default: a Kubernetes default-deny per namespace, then label-based allows."
run apply -f "$demo/02-policies.yaml"
run get globalnetworkpolicies
run get networkpolicies -A

section "4. After: the same question, and the api port (TCP 8080)"
run policy matrix --protocol TCP --port 5432
note "Only the api (a named port, postgres) and the backup job reach the database."
run policy matrix --protocol TCP --port 8080
note "Only the frontend reaches the api. (The diagonal is evaluated like any other pair; a pod talking"
note "to its own address never leaves the pod, so real traffic there is never policed.)"

section "5. Why can't the frontend reach the database?"
run policy explain --from shop/frontend --to data/db --protocol TCP --port 5432

section "6. What would change? (preview, nothing is written)"
note "$demo/03-change.yaml adds db-from-frontend and marks db-from-backup for deletion."
run policy preview -f "$demo/03-change.yaml" --protocol TCP --port 5432

section "Next"
cat <<EOF
Try more, against the same kind of datastore:
  export BRINDLE_DATASTORE=sqlite:/tmp/brindle.db
  node bin/brindle.js apply -f examples/demo/00-namespaces.yaml -f examples/demo/01-endpoints.yaml -f examples/demo/02-policies.yaml
  node bin/brindle.js policy explain --from shop/api --to 169.254.169.254 --protocol TCP --port 80
  node bin/brindle.js policy matrix --protocol TCP --port 80 -o json
(This demo's datastore was a temporary file and has been removed. 'make lab' shows the same kind
of policy enforced on the kernel, in network namespaces.)
EOF
