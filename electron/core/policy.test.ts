import { describe, expect, it } from 'vitest';
import { checkScope, modelAllowed, refuseModels, requiredScope } from './policy.js';

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

  it("is case-sensitive, as Ollama's router is", () => {
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

describe('modelAllowed', () => {
  it('matches names as Ollama resolves them: no tag is :latest, any case, the default registry and namespace spelled out', () => {
    for (const name of ['llama3', 'llama3:latest', 'LLAMA3', 'library/llama3', 'registry.ollama.ai/library/llama3:latest']) {
      expect(modelAllowed(['llama3'], name), name).toBe(true);
    }
    expect(modelAllowed(['llama3'], 'llama3:8b')).toBe(false);
    expect(modelAllowed(['registry.ollama.ai/library/llama3'], 'llama3')).toBe(true);
  });

  it('keeps * within one segment of a name: never another registry, namespace or a pinned digest', () => {
    for (const name of ['llama3.2', 'llama3.2:1b', 'llama3-mine']) expect(modelAllowed(['llama3*'], name), name).toBe(true);
    for (const name of ['llama3.evil.com/x/y', 'llama3x/model', 'llama3@sha256:aa', 'qwen2.5:7b']) expect(modelAllowed(['llama3*'], name), name).toBe(false);
    expect(modelAllowed(['myorg/*'], 'myorg/chat')).toBe(true);
    expect(modelAllowed(['myorg/*'], 'myorg/a/b')).toBe(false);
  });

  it('allows everything without a list, nothing with an empty pattern', () => {
    expect(modelAllowed([], 'anything/at/all')).toBe(true);
    expect(modelAllowed([' '], 'llama3')).toBe(false);
  });
});

describe('refuseModels', () => {
  const read = (json: string) => ({ kind: 'read' as const, bytes: Buffer.from(json), shape: 'object' as const });
  const refuse = (path: string, json: string, uploaded: string[] = []) => refuseModels(['llama3*'], path, read(json), (d) => uploaded.includes(d))?.message;

  it('checks every member that names a model, every occurrence, in any case', () => {
    expect(refuse('/api/chat', '{"model":"llama3.2"}')).toBeUndefined();
    expect(refuse('/api/chat', '{"model":"llama3.2","MODEL":"qwen"}')).toMatch(/model "qwen" is not allowed/);
    expect(refuse('/api/show', '{"name":"qwen"}')).toMatch(/model "qwen"/);
    expect(refuse('/api/copy', '{"source":"llama3.2","destination":"qwen"}')).toMatch(/"destination"/);
    expect(refuse('/api/create', '{"model":"llama3-x","from":"qwen"}')).toMatch(/"from"/);
    expect(refuse('/api/chat', '{"model":5}')).toMatch(/"model" must name a model/);
    expect(refuse('/api/chat', '{"messages":[]}')).toMatch(/name one in "model"/);
  });

  it('lets /api/create use only files this key uploaded, and no Modelfile it cannot check', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(refuse('/api/create', `{"model":"llama3-x","files":{"m.gguf":"${digest}"}}`)).toMatch(/"files" may only name files this key has uploaded/);
    expect(refuse('/api/create', `{"model":"llama3-x","files":{"m.gguf":"${digest}"}}`, [digest])).toBeUndefined();
    expect(refuse('/api/create', `{"model":"llama3-x","adapters":{"a":"${digest}"}}`)).toMatch(/"adapters"/);
    expect(refuse('/api/create', `{"model":"llama3-x","from":"llama3.2","draft_files":{"d.gguf":"${digest}"}}`)).toMatch(/"draft_files"/);
    expect(refuse('/api/create', '{"model":"llama3-x","modelfile":"FROM llama3.2\\rFROM qwen"}')).toMatch(/model "qwen" \("FROM"\)/);
    expect(refuse('/api/create', '{"model":"llama3-x","modelfile":"FROM llama3.2\\nADAPTER ./a.bin"}')).toMatch(/ADAPTER/);
    expect(refuse('/api/create', '{"model":"llama3-x","path":"/etc/Modelfile"}')).toMatch(/Modelfile on Ollama's machine/);
  });

  it('refuses what it cannot read, and checks the model a path names', () => {
    expect(refuseModels(['llama3*'], '/api/chat', { kind: 'unread' }, () => false)?.message).toMatch(/too large/);
    expect(refuseModels(['llama3*'], '/api/chat', { kind: 'read', bytes: Buffer.from('[1]'), shape: 'other' }, () => false)?.message).toMatch(
      /not a JSON object/,
    );
    expect(refuseModels(['llama3*'], '/v1/models/qwen', { kind: 'none' }, () => false)?.message).toMatch(/model "qwen"/);
    expect(refuseModels(['llama3*'], '/api/tags', { kind: 'none' }, () => false)).toBeUndefined();
    expect(refuseModels([], '/api/chat', { kind: 'unread' }, () => false)).toBeUndefined();
  });
});
