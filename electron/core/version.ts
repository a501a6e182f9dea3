import { createRequire } from 'node:module';

/** The package version; electron/core, dist/core and the CLI bundle in dist/cli all sit two folders below package.json. */
export const GATE_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
