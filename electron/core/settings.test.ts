import { describe, expect, it } from 'vitest';
import { DEFAULT_PROXY_SETTINGS } from '../../renderer/src/testing/fixtures.js';
import { DEFAULT_SETTINGS } from './settings.js';

describe('DEFAULT_SETTINGS', () => {
  it("equals the renderer tests' copy, which may not import the core", () => {
    expect(DEFAULT_PROXY_SETTINGS).toEqual(DEFAULT_SETTINGS);
  });
});
