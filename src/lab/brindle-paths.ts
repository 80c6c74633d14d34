import { fileURLToPath } from 'node:url';

/** Where the compiled Brindle executables are, for processes the lab starts inside namespaces. */
export const BRINDLE_BIN = fileURLToPath(new URL('../../../bin/brindle.js', import.meta.url));
export const WORKLOAD_SERVER = fileURLToPath(new URL('./workload-server-main.js', import.meta.url));
