import { describe, expect, it } from 'vitest';
import { en } from '../../renderer/src/i18n/en.js';
import { placeholdersOf } from '../../renderer/src/i18n/translate.js';
import { REASON_CODES } from '../shared/contract.js';
import { GateError, explain, reasonOf, reasonStatus, reasonTemplate, reasonText, upstreamError } from './errors.js';

describe('the reasons table', () => {
  it('has one English message for every reason code, and no code twice', () => {
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
    for (const code of REASON_CODES) {
      expect(reasonTemplate(code), code).toMatch(/\S/);
      // A message starts as the log and HTTP clients read it: no stray placeholder syntax.
      expect(reasonTemplate(code), code).not.toMatch(/\{\s*\}|\$\{/);
    }
  });

  it('gives every request reason a status an HTTP client understands', () => {
    const statuses = REASON_CODES.map((code) => reasonStatus(code)).filter((status) => status !== undefined);
    expect(statuses.length).toBeGreaterThan(40);
    // 508 Loop Detected (RFC 5842): an Ollama URL that leads back to the gate.
    for (const status of statuses) expect([400, 401, 403, 404, 405, 408, 413, 429, 500, 502, 503, 504, 508]).toContain(status);
    expect(reasonStatus('forward_loop')).toBe(508);
    // Wrong keys are 401/403, never 429 or 5xx (clients retry those); a lockout is the 429.
    expect(reasonStatus('invalid_key')).toBe(403);
    expect(reasonStatus('invalid_key_locking')).toBe(403);
    expect(reasonStatus('missing_key')).toBe(401);
    expect(reasonStatus('locked_out')).toBe(429);
    // What only the window shows has none.
    expect(reasonStatus('port_in_use')).toBeUndefined();
    expect(reasonStatus('test_gate_ok')).toBeUndefined();
  });

  // Checked from the core's side: the renderer never imports the core.
  it("sends every value the window's message for a reason names", () => {
    for (const code of REASON_CODES) {
      const sent = placeholdersOf(reasonTemplate(code));
      for (const name of placeholdersOf(en[`reason.${code}`])) expect(sent, `reason.${code} uses {${name}}`).toContain(name);
    }
  });

  it('fills placeholders from params and leaves JSON in a message alone', () => {
    expect(reasonText('locked_out', { ip: '10.0.0.9', seconds: 42 })).toBe('10.0.0.9 is locked out after too many failed API keys; try again in 42 s');
    expect(reasonText('auth_method', { method: 'GET' })).toBe('GET /auth is not supported; POST {"api_key": "..."}');
    expect(reasonText('auth_missing_key')).toBe('API key required: POST {"api_key": "<key>"} or send it in a header');
  });
});

describe('GateError', () => {
  it('takes its English, status and reason from the one table', () => {
    const error = new GateError('locked_out', { ip: '10.0.0.9', seconds: 42 }, { 'Retry-After': '42' });
    expect(error.message).toBe(reasonText('locked_out', { ip: '10.0.0.9', seconds: 42 }));
    expect(error.message).toContain('locked out');
    expect(error).toMatchObject({ status: 429, kind: 'locked_out', outcome: 'denied', headers: { 'Retry-After': '42' } });
    expect(error.reason).toEqual({ code: 'locked_out', params: { ip: '10.0.0.9', seconds: 42 } });
  });

  it('carries no params for a message that names none', () => {
    const error = new GateError('invalid_key');
    expect(error.message).toBe('invalid API key');
    expect(error.reason).toEqual({ code: 'invalid_key' });
    expect(error.status).toBe(403);
  });

  it('is found by reasonOf, as is anything else carrying a known reason; other errors have none', () => {
    expect(reasonOf(new GateError('busy'))).toEqual({ code: 'busy' });
    expect(reasonOf({ reason: { code: 'port_in_use', params: { port: 1, host: 'h' } } })).toEqual({ code: 'port_in_use', params: { port: 1, host: 'h' } });
    expect(reasonOf(new Error('plain'))).toBeNull();
    expect(reasonOf({ reason: { code: 'made_up' } })).toBeNull();
    expect(reasonOf(null)).toBeNull();
  });
});

describe('upstreamError', () => {
  it('maps transport codes, on the error or its cause, to a reason with the URL and code', () => {
    const refused = upstreamError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'http://127.0.0.1:11434');
    expect(refused.message).toBe('Ollama is not running or refused the connection (http://127.0.0.1:11434, ECONNREFUSED)');
    expect(refused.reason).toEqual({ code: 'upstream_refused', params: { url: 'http://127.0.0.1:11434', errno: 'ECONNREFUSED' } });
    expect(refused.status).toBe(502);

    const wrapped = upstreamError(new Error('fetch failed', { cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } }), 'http://o:1');
    expect(wrapped.reason.code).toBe('upstream_no_answer');
    expect(wrapped.status).toBe(504);

    expect(upstreamError(Object.assign(new Error('x'), { code: 'HPE_INVALID_CONSTANT' }), 'http://o:1').reason.code).toBe('upstream_unreadable');
    expect(upstreamError(Object.assign(new Error('x'), { code: 'UND_ERR_INVALID_ARG' }), 'http://o:1').status).toBe(400);
  });

  it('says what it could not map in words, with the reason upstream_failed', () => {
    const error = upstreamError(new Error('something odd'), 'http://o:1');
    expect(error.message).toBe('could not reach Ollama at http://o:1: something odd');
    expect(error.reason).toEqual({ code: 'upstream_failed', params: { url: 'http://o:1', detail: 'something odd' } });
  });

  it('without details, says only the code or kind of what it could not map: such a message may name the host', () => {
    const tls = Object.assign(new Error("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: 10.20.30.40"), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    const named = upstreamError(tls, 'backend "lab"', false);
    expect(named.message).toBe('could not reach Ollama at backend "lab": ERR_TLS_CERT_ALTNAME_INVALID');
    expect(JSON.stringify(named.reason)).not.toContain('10.20.30.40');
    expect(upstreamError(new TypeError('connect to 10.0.0.7 failed'), 'backend "lab"', false).message).toBe(
      'could not reach Ollama at backend "lab": TypeError',
    );
    // With details (the default backend, the operator's own machine as a rule), the words stay.
    expect(upstreamError(tls, 'https://127.0.0.1:1').message).toContain('10.20.30.40');
  });

  it('passes a GateError through', () => {
    const own = new GateError('body_stalled', { ms: 5 });
    expect(upstreamError(own, 'http://o:1')).toBe(own);
  });
});

describe('explain', () => {
  it('gives the English and the reason side by side', () => {
    expect(explain('port_in_use', { port: 8000, host: '0.0.0.0' })).toEqual({
      text: 'port 8000 is already in use on 0.0.0.0: stop the other program or choose another port',
      reason: { code: 'port_in_use', params: { port: 8000, host: '0.0.0.0' } },
    });
    expect(explain('test_gate_ok')).toEqual({ text: 'the gate answers and Ollama is reachable through it', reason: { code: 'test_gate_ok' } });
  });
});
