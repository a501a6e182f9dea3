import { describe, expect, it } from 'vitest';
import { corsHeaders, preflightHeaders } from './cors.js';

describe('corsHeaders', () => {
  it('allows any origin with "*" (and needs no Vary)', () => {
    expect(corsHeaders('https://app.example', ['*'])).toEqual({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After',
    });
    expect(corsHeaders(undefined, ['*'])['Access-Control-Allow-Origin']).toBe('*');
  });

  it('echoes a listed origin and varies on Origin', () => {
    expect(corsHeaders('https://app.example', ['https://other.example', 'https://app.example'])).toEqual({
      'Access-Control-Allow-Origin': 'https://app.example',
      'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After',
      Vary: 'Origin',
    });
  });

  it('sends no CORS headers at all to an origin not listed, or without an Origin', () => {
    expect(corsHeaders('https://evil.example', ['https://app.example'])).toEqual({});
    expect(corsHeaders(undefined, ['https://app.example'])).toEqual({});
    expect(corsHeaders('https://app.example', [])).toEqual({});
  });

  it('matches "*" inside a pattern as any run of characters', () => {
    const allowed = ['http://localhost:*'];
    expect(corsHeaders('http://localhost:5173', allowed)['Access-Control-Allow-Origin']).toBe('http://localhost:5173');
    expect(corsHeaders('http://localhost:3000', allowed)['Access-Control-Allow-Origin']).toBe('http://localhost:3000');
    expect(corsHeaders('https://localhost:5173', allowed)).toEqual({});
    expect(corsHeaders('http://localhost', allowed)).toEqual({});
  });

  it('matches the rest of a pattern literally (dots are not wildcards)', () => {
    expect(corsHeaders('https://appXexample', ['https://app.example'])).toEqual({});
    expect(corsHeaders('https://app.example.evil.com', ['https://app.example'])).toEqual({});
    expect(corsHeaders('https://a.app.example', ['https://*.app.example'])['Access-Control-Allow-Origin']).toBe('https://a.app.example');
    expect(corsHeaders('https://a.appXexample', ['https://*.app.example'])).toEqual({});
  });
});

describe('preflightHeaders', () => {
  it('adds methods, headers and a max age for an allowed origin', () => {
    const headers = preflightHeaders('https://app.example', ['https://app.example']);
    expect(headers['Access-Control-Allow-Origin']).toBe('https://app.example');
    expect(headers.Vary).toBe('Origin');
    const methods = headers['Access-Control-Allow-Methods']!.split(', ');
    expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'DELETE', 'HEAD', 'OPTIONS']));
    const allowedHeaders = headers['Access-Control-Allow-Headers']!.toLowerCase().split(', ');
    // The key headers browsers must be allowed to send, and what the OpenAI SDK adds.
    expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'x-api-key', 'content-type', 'x-stainless-os']));
    expect(Number(headers['Access-Control-Max-Age'])).toBeGreaterThan(0);
  });

  it('answers a refused origin without any CORS headers', () => {
    expect(preflightHeaders('https://evil.example', ['https://app.example'])).toEqual({});
  });
});
