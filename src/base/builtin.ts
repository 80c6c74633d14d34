import { createRequire } from 'node:module';

/**
 * Loads a Node built-in module when first needed rather than at start-up, in both shapes this
 * code runs in: ES modules (dist/, through createRequire) and the CNI plugin's CommonJS bundle,
 * which runs inside vm.Script where `import()` is not available (there `require` is the module's).
 */
export function requireBuiltin<T>(name: `node:${string}`): T {
  const req = typeof require === 'function' ? require : createRequire(import.meta.url);
  return req(name) as T;
}
