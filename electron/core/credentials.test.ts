import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { KEY_HEADERS, keyFromHeadersOrQuery } from './credentials.js';
import { parseTarget } from './request-target.js';

const KEY = 'og_abcdefghijklmnopqrstuvwxyz012345';

function basic(userAndPassword: string): string {
  return `Basic ${Buffer.from(userAndPassword, 'utf8').toString('base64')}`;
}

function presented(headers: IncomingHttpHeaders, query?: string) {
  return keyFromHeadersOrQuery(headers, query === undefined ? undefined : parseTarget(`/api/tags?${query}`).query.key);
}

describe('keyFromHeadersOrQuery: each source', () => {
  it('reads X-API-Key', () => {
    expect(presented({ 'x-api-key': KEY })).toEqual({ secret: KEY, source: 'x-api-key' });
  });

  it('takes the first X-API-Key when the header is repeated', () => {
    expect(presented({ 'x-api-key': [KEY, 'og_other'] })).toEqual({ secret: KEY, source: 'x-api-key' });
  });

  it('trims whitespace around X-API-Key', () => {
    expect(presented({ 'x-api-key': `  ${KEY} ` })).toEqual({ secret: KEY, source: 'x-api-key' });
  });

  it('reads Authorization: Bearer <key>', () => {
    expect(presented({ authorization: `Bearer ${KEY}` })).toEqual({ secret: KEY, source: 'bearer' });
  });

  it('reads Basic with the key as the password (user:key URLs)', () => {
    expect(presented({ authorization: basic(`alice:${KEY}`) })).toEqual({ secret: KEY, source: 'basic' });
  });

  it('reads Basic with the key as the user name when the password is empty', () => {
    expect(presented({ authorization: basic(`${KEY}:`) })).toEqual({ secret: KEY, source: 'basic' });
    expect(presented({ authorization: basic(KEY) })).toEqual({ secret: KEY, source: 'basic' });
  });

  it('keeps colons inside a Basic password', () => {
    expect(presented({ authorization: basic('user:pa:ss') })).toEqual({ secret: 'pa:ss', source: 'basic' });
  });

  it('reads a bare Authorization: <key>', () => {
    expect(presented({ authorization: KEY })).toEqual({ secret: KEY, source: 'authorization' });
  });

  it('reads ?api_key=', () => {
    expect(presented({}, `api_key=${KEY}&stream=false`)).toEqual({ secret: KEY, source: 'query' });
  });

  it('decodes a percent-encoded query key', () => {
    expect(presented({}, 'api_key=og_a%2Bb%2Fc')).toEqual({ secret: 'og_a+b/c', source: 'query' });
  });

  it('finds nothing in a request without a key', () => {
    expect(presented({ 'content-type': 'application/json' }, 'stream=false')).toBeUndefined();
    expect(presented({})).toBeUndefined();
  });
});

describe('keyFromHeadersOrQuery: order of precedence', () => {
  it('prefers X-API-Key over Authorization and the query', () => {
    expect(presented({ 'x-api-key': 'og_from_header', authorization: 'Bearer og_from_bearer' }, 'api_key=og_from_query')).toEqual({
      secret: 'og_from_header',
      source: 'x-api-key',
    });
  });

  it('prefers Authorization (any form) over the query', () => {
    expect(presented({ authorization: 'Bearer og_b' }, 'api_key=og_q')?.source).toBe('bearer');
    expect(presented({ authorization: basic('u:og_p') }, 'api_key=og_q')?.source).toBe('basic');
    expect(presented({ authorization: 'og_bare' }, 'api_key=og_q')?.source).toBe('authorization');
  });

  it('falls through an empty X-API-Key to the next source', () => {
    expect(presented({ 'x-api-key': '   ', authorization: `Bearer ${KEY}` })).toEqual({ secret: KEY, source: 'bearer' });
    expect(presented({ 'x-api-key': '' }, `api_key=${KEY}`)).toEqual({ secret: KEY, source: 'query' });
  });

  it('falls through a Bearer without a token to the query (not treating "Bearer" as a bare key)', () => {
    expect(presented({ authorization: 'Bearer' }, `api_key=${KEY}`)).toEqual({ secret: KEY, source: 'query' });
    expect(presented({ authorization: 'Bearer   ' })).toBeUndefined();
  });

  it('falls through an empty Basic to the query', () => {
    expect(presented({ authorization: 'Basic' }, `api_key=${KEY}`)).toEqual({ secret: KEY, source: 'query' });
    expect(presented({ authorization: basic(':') }, `api_key=${KEY}`)).toEqual({ secret: KEY, source: 'query' });
  });

  it('ignores an Authorization scheme it does not know and an empty query key', () => {
    expect(presented({ authorization: 'Token og_xyz' }, `api_key=${KEY}`)).toEqual({ secret: KEY, source: 'query' });
    expect(presented({ authorization: 'Digest username="x", realm="y"' })).toBeUndefined();
    expect(presented({}, 'api_key=')).toBeUndefined();
  });
});

describe('keyFromHeadersOrQuery: scheme names are case-insensitive', () => {
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    it(`reads "${scheme} <key>"`, () => {
      expect(presented({ authorization: `${scheme} ${KEY}` })).toEqual({ secret: KEY, source: 'bearer' });
    });
  }
  for (const scheme of ['basic', 'BASIC']) {
    it(`reads "${scheme} <base64>"`, () => {
      const encoded = Buffer.from(`u:${KEY}`).toString('base64');
      expect(presented({ authorization: `${scheme} ${encoded}` })).toEqual({ secret: KEY, source: 'basic' });
    });
  }

  it('tolerates extra spaces between the scheme and the key', () => {
    expect(presented({ authorization: `Bearer    ${KEY}` })).toEqual({ secret: KEY, source: 'bearer' });
  });
});

describe('KEY_HEADERS', () => {
  it('names every header a key can travel in, lower-cased as Node delivers them', () => {
    expect([...KEY_HEADERS].sort()).toEqual(['authorization', 'proxy-authorization', 'x-api-key']);
  });
});
