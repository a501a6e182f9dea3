import { describe, expect, it } from 'vitest';
import { reachableFromLan } from './urls.js';

describe('which URLs get a QR code', () => {
  it('only those another device on the network can open', () => {
    for (const url of ['http://192.168.1.5:8000', 'https://10.0.0.2:8443', 'http://gate.lan:8000', 'http://[fd00::5]:8000'])
      expect(reachableFromLan(url), url).toBe(true);
    for (const url of [
      'http://127.0.0.1:8000',
      'https://127.0.0.1:8443',
      'http://127.1.2.3:80',
      'http://localhost:8000',
      'http://app.localhost',
      'http://[::1]:8000',
      'not a url',
    ]) {
      expect(reachableFromLan(url), url).toBe(false);
    }
  });
});
