import type { LogEntry } from '../../../electron/shared/contract.js';

/** A finished request for tests: an allowed chat by alice unless `patch` says otherwise. */
export function entry(seq: number, patch: Partial<LogEntry> = {}): LogEntry {
  return {
    seq,
    id: seq.toString(16).padStart(8, '0'),
    time: 1_700_000_000_000 + seq * 1_000,
    method: 'POST',
    path: '/api/chat',
    ip: '10.0.0.2',
    user: 'alice',
    keyId: 'k1',
    keyPrefix: 'og_abcd1',
    keySource: 'bearer',
    decision: 'allowed',
    status: 200,
    ttfbMs: 5,
    durationMs: 20,
    bytesIn: 100,
    bytesOut: 400,
    model: 'llama3.2',
    promptTokens: 10,
    completionTokens: 20,
    requestBody: null,
    outcome: 'ok',
    error: null,
    reason: null,
    client: 'ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)',
    answeredBy: 'ollama',
    backend: 'default',
    ...patch,
  };
}
