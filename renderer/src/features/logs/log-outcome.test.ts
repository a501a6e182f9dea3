import { describe, expect, it } from 'vitest';
import { entry } from '../../testing/log-entries.js';
import { outcomeKind } from './log-outcome.js';

describe('how a request’s outcome is shown', () => {
  it('tells Ollama’s own refusal from a completed request and from the gate’s refusal', () => {
    // Ollama said 404 for a model it does not have: the gate let it through, the log said "ok".
    expect(outcomeKind(entry(1, { status: 404, outcome: 'ok', decision: 'allowed', answeredBy: 'ollama' }))).toBe('ollamaRefused');
    expect(outcomeKind(entry(2, { status: 400, outcome: 'ok', answeredBy: 'ollama' }))).toBe('ollamaRefused');
    expect(outcomeKind(entry(3, { status: 200, outcome: 'ok', answeredBy: 'ollama' }))).toBe('completed');
    // The same 404 status, made by the gate: a path it does not expose.
    expect(outcomeKind(entry(4, { status: 404, outcome: 'error', decision: 'denied', answeredBy: 'gate' }))).toBe('gateRefused');
  });

  it('shows every refusal the gate makes as the gate’s', () => {
    for (const [status, outcome] of [
      [401, 'denied'],
      [403, 'denied'],
      [429, 'denied'],
      [400, 'denied'],
      [503, 'denied'],
      [413, 'error'],
      [408, 'error'],
      [405, 'error'],
    ] as const) {
      expect(outcomeKind(entry(1, { status, outcome, decision: 'denied', answeredBy: 'gate' })), `${status}`).toBe('gateRefused');
    }
  });

  it('shows Ollama failing as an upstream error, whoever wrote the status', () => {
    expect(outcomeKind(entry(1, { status: 502, outcome: 'upstream_error', answeredBy: 'gate' }))).toBe('upstreamError');
    expect(outcomeKind(entry(2, { status: 504, outcome: 'upstream_error', answeredBy: 'gate' }))).toBe('upstreamError');
    expect(outcomeKind(entry(3, { status: 500, outcome: 'ok', answeredBy: 'ollama' }))).toBe('upstreamError');
    // A stream Ollama broke off: 200 already sent.
    expect(outcomeKind(entry(4, { status: 200, outcome: 'upstream_error', answeredBy: 'ollama' }))).toBe('upstreamError');
    // The gate's /health when Ollama is down.
    expect(outcomeKind(entry(5, { status: 503, outcome: 'ok', decision: 'public', answeredBy: 'gate' }))).toBe('upstreamError');
  });

  it('keeps the gate failing and the client leaving apart', () => {
    expect(outcomeKind(entry(1, { status: 500, outcome: 'error', answeredBy: 'gate' }))).toBe('gateError');
    expect(outcomeKind(entry(2, { status: 200, outcome: 'client_aborted', answeredBy: 'ollama' }))).toBe('clientLeft');
    expect(outcomeKind(entry(3, { status: 200, outcome: 'ok', decision: 'public', answeredBy: 'gate' }))).toBe('completed');
  });
});
