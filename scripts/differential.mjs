// `npm run differential -- [RUNS] [SEED]`: the differential property test (test/differential.test.ts)
// for as many generated runs as asked (default 20,000), with a seed of its own unless given one.
import { spawnSync } from 'node:child_process';

const [runs = '20000', seed = String(Date.now() % 2_147_483_647)] = process.argv.slice(2);
console.log(`differential: ${runs} runs, seed ${seed} (run again with: npm run differential -- ${runs} ${seed})`);
const result = spawnSync('npx', ['vitest', 'run', 'test/differential.test.ts'], {
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: { ...process.env, DIFFERENTIAL_RUNS: runs, DIFFERENTIAL_SEED: seed },
});
process.exit(result.status ?? 1);
