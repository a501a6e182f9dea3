/**
 * The bench's upstream process: the faithful fake Ollama (non-streaming chat) and the line-stamping
 * streaming upstream (stream delay, many streams). Announces both URLs over IPC when it has a parent
 * and on stdout, and exits when its parent goes away.
 *
 *   npx tsx bench/fake-server.ts        # prints {"fake":"http://127.0.0.1:…","stream":"http://127.0.0.1:…"}
 */
import { startFakeOllama } from '../test/support/fake-ollama.js';
import type { UpstreamAddresses } from './protocol.js';
import { startStreamUpstream } from './stream-upstream.js';

const fake = await startFakeOllama();
const stream = await startStreamUpstream();

// The fake records every request for the tests' assertions; under load that record only grows.
setInterval(() => fake.reset(), 1_000);

const addresses: UpstreamAddresses = { fake: fake.url, stream: stream.url };
process.stdout.write(`${JSON.stringify(addresses)}\n`);
if (process.send) {
  process.send(addresses);
  process.on('disconnect', () => process.exit(0));
}

const shutdown = (): void => {
  void Promise.all([fake.close(), stream.close()]).finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
