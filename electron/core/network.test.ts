import { describe, expect, it } from 'vitest';
import { canonicalIp, normalizeIp } from './network.js';

describe('canonicalIp: an address as typed, in the form client addresses are recorded in', () => {
  it.each([
    ['FE80:0:0:0:0:0:0:1', 'fe80::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8::0:1', '2001:db8::1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    [' 192.168.1.5 ', '192.168.1.5'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
  ])('%s is %s', (typed, recorded) => {
    expect(canonicalIp(typed)).toBe(recorded);
  });

  it('agrees with how a socket address is recorded', () => {
    expect(canonicalIp('::ffff:127.0.0.1')).toBe(normalizeIp('::ffff:127.0.0.1'));
  });
});
