/** Brindle's version, printed by `brindle --version`. Keep in step with package.json. */
export const VERSION = '0.1.0';
