#!/usr/bin/env bash
# `make lab`: the newcomer's first look at Brindle. Until the policy demo lands this shows the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
node bin/brindle.js --help
echo
echo "Brindle's policy demo arrives with the policy-calculation milestone; this build shows the CLI only."
