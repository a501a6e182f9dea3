import { describe, expect, it } from 'vitest';
import { checkScope, requiredScope } from './policy.js';

const INFERENCE_PATHS = ['/api/chat', '/api/generate', '/api/embed', '/api/embeddings', '/api/tags', '/api/show', '/api/ps', '/api/version'];
const OPENAI_PATHS = ['/v1', '/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models', '/v1/models/llama3'];
const MANAGEMENT_PATHS = ['/api/pull', '/api/push', '/api/create', '/api/copy', '/api/delete', '/api/blobs/sha256:abc', '/api/unknown', '/'];

describe('requiredScope', () => {
  it.each(INFERENCE_PATHS)('%s needs only inference', (path) => {
    expect(requiredScope(path)).toBe('inference');
  });

  it.each(OPENAI_PATHS)('%s (OpenAI compatible) needs only inference', (path) => {
    expect(requiredScope(path)).toBe('inference');
  });

  it.each(MANAGEMENT_PATHS)('%s needs full', (path) => {
    expect(requiredScope(path)).toBe('full');
  });

  it.each(['/debug', '/debug/', '/debug/pprof/', '/debug/pprof/heap'])('%s is never exposed', (path) => {
    expect(requiredScope(path)).toBe('never');
  });

  it('matches whole path segments, not prefixes', () => {
    expect(requiredScope('/v1beta/models')).toBe('full');
    expect(requiredScope('/debugger')).toBe('full');
    expect(requiredScope('/api/chat/extra')).toBe('full');
    expect(requiredScope('/api/chatx')).toBe('full');
  });

  it('is case-sensitive, as Ollama\'s router is', () => {
    expect(requiredScope('/API/CHAT')).toBe('full');
    expect(requiredScope('/Debug/pprof')).toBe('full');
  });
});

describe('checkScope', () => {
  it('lets an inference key run models', () => {
    for (const path of [...INFERENCE_PATHS, ...OPENAI_PATHS]) expect(checkScope('inference', path), path).toEqual({ allowed: true });
  });

  it('refuses model management to an inference key, saying it needs full', () => {
    for (const path of MANAGEMENT_PATHS) {
      expect(checkScope('inference', path), path).toEqual({ allowed: false, reason: 'scope', needs: 'full' });
    }
  });

  it('lets a full key reach everything but /debug', () => {
    for (const path of [...INFERENCE_PATHS, ...OPENAI_PATHS, ...MANAGEMENT_PATHS]) expect(checkScope('full', path), path).toEqual({ allowed: true });
  });

  it('refuses /debug to every key as not exposed', () => {
    expect(checkScope('full', '/debug/pprof/')).toEqual({ allowed: false, reason: 'not_exposed' });
    expect(checkScope('inference', '/debug/pprof/')).toEqual({ allowed: false, reason: 'not_exposed' });
  });
});
