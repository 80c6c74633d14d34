# Brindle. Every target does its own set-up on a fresh Debian machine as root: it installs the
# system packages it needs (only those missing), runs `npm ci` when the lock file changed, builds,
# then does its job.
SHELL := /bin/bash
APT_PACKAGES := nftables iproute2 bird2 etcd-server etcd-client iputils-ping socat iperf3 containernetworking-plugins conntrack frr ulogd2 ulogd2-json chromium iptables util-linux golang-go golang-github-appc-cni-dev containerd runc busybox-static
NODE_TEST_FLAGS ?= --test-concurrency=2

.PHONY: all deps build test lab policy-demo bench clean

all: build

deps:
	@command -v node >/dev/null || { echo "Node.js 20 or newer is required (apt-get install nodejs npm)"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: deps node_modules/.stamp
	node_modules/.bin/tsc -p tsconfig.json
	node_modules/.bin/tsc -p tsconfig.ui.json
	node scripts/build-ui.mjs

# Unit and integration tests (real SQLite, a real 3-member etcd cluster on 127.0.0.1). The list
# comes from the sources, so a compiled test whose source was deleted never runs. `npm test` runs
# the same script (it builds first).
test: build
	NODE_TEST_FLAGS="$(NODE_TEST_FLAGS)" node scripts/run-tests.mjs --no-build

# The main job (root): a 3-node Brindle cluster in network namespaces on this machine, workloads,
# policy enforced on the kernel and the probed matrix before/after. Leaves the lab up to explore;
# `node bin/brindle.js lab down` removes it.
lab: build
	bash scripts/lab.sh

# The policy calculation alone, on a temporary SQLite file (no root, no packets).
policy-demo: build
	bash scripts/policy-demo.sh

# Every benchmark in bench/, one table of figures.
bench: build
	node dist/bench/run-all.js

clean:
	rm -rf dist
