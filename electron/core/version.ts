import { createRequire } from 'node:module';

/** The package version; electron/core and dist/core sit at the same depth below package.json. */
export const GATE_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
