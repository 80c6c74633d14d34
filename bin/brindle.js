#!/usr/bin/env node
// The `brindle` executable: a thin shim over the compiled CLI (run `make build` first).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2), process.env);
