import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { KEY_PLACEHOLDER, clientSnippets, preferredBaseUrl, shellQuote, snippetModel } from './snippets.js';

const INPUT = { baseUrl: 'http://192.168.1.5:8000/', key: 'og_abc-DEF_123', model: 'qwen2.5:7b' };

describe('client snippets', () => {
  const snippets = clientSnippets(INPUT);
  const byId = Object.fromEntries(snippets.map((s) => [s.id, s]));

  it('covers every client the README names, each carrying the key and the gate URL', () => {
    expect(snippets.map((s) => s.id)).toEqual(['curl', 'ollama-js', 'ollama-python', 'langchain-python', 'langchain-js', 'openai', 'open-webui']);
    for (const snippet of snippets) {
      expect(snippet.code, snippet.id).toContain(INPUT.key);
      expect(snippet.code, snippet.id).toContain('http://192.168.1.5:8000');
      expect(snippet.code, snippet.id).not.toContain('8000//');
    }
  });

  it('sends the key as a Bearer header, and to the OpenAI SDK as its api_key on /v1', () => {
    expect(byId['curl']!.code).toContain(`-H 'Authorization: Bearer ${INPUT.key}'`);
    expect(byId['ollama-js']!.code).toContain(`headers: { Authorization: 'Bearer ${INPUT.key}' }`);
    expect(byId['ollama-python']!.code).toContain(`headers={"Authorization": "Bearer ${INPUT.key}"}`);
    expect(byId['langchain-python']!.code).toContain(`client_kwargs={"headers": {"Authorization": "Bearer ${INPUT.key}"}}`);
    expect(byId['openai']!.code).toContain(`OpenAI(base_url="http://192.168.1.5:8000/v1", api_key="${INPUT.key}")`);
    expect(byId['open-webui']!.code).toBe(`URL: http://192.168.1.5:8000\nKey: ${INPUT.key}`);
  });

  it('puts a placeholder where the key goes when there is no secret to show, in every client', () => {
    for (const snippet of clientSnippets({ ...INPUT, key: KEY_PLACEHOLDER })) {
      expect(snippet.code, snippet.id).not.toContain(INPUT.key);
      expect(snippet.code, snippet.id).toMatch(
        snippet.id === 'openai' ? /api_key="YOUR_KEY"/ : snippet.id === 'open-webui' ? /^Key: YOUR_KEY$/m : /Bearer YOUR_KEY/,
      );
    }
  });

  it('writes JavaScript that parses, whatever the model is called', () => {
    for (const model of ['llama3.2', "it's\\odd"]) {
      for (const snippet of clientSnippets({ ...INPUT, model }).filter((s) => s.language === 'javascript')) {
        const file = ts.createSourceFile('snippet.mjs', snippet.code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
        const diagnostics = (file as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics;
        expect(diagnostics, `${snippet.id}: ${snippet.code}`).toEqual([]);
      }
    }
  });

  it('quotes the curl body so a quote in a model name cannot break out of it', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(clientSnippets({ ...INPUT, model: "x'; rm -rf ~" })[0]!.code).toContain(`"model": "x'\\''; rm -rf ~",`);
  });

  it('sends a JSON body curl can post as it is', () => {
    const code = byId['curl']!.code;
    const body = /-d '([\s\S]*)'$/.exec(code)![1]!;
    expect(JSON.parse(body)).toEqual({ model: 'qwen2.5:7b', messages: [{ role: 'user', content: 'Hello' }], stream: false });
  });

  it('asks a chat model, not an embedding one', () => {
    expect(
      snippetModel([
        { name: 'all-minilm:latest', family: 'bert' },
        { name: 'nomic-embed-text', family: 'nomic-bert' },
        { name: 'llama3.2:latest', family: 'llama' },
      ]),
    ).toBe('llama3.2:latest');
    expect(snippetModel([{ name: 'all-minilm:latest', family: 'bert' }])).toBe('all-minilm:latest');
    expect(snippetModel([])).toBe('llama3.2');
  });

  it('asks for an installed model the key may use, so the snippet works as pasted', () => {
    const installed = [
      { name: 'deepseek-r1:14b', family: 'qwen2' },
      { name: 'nomic-embed-text:latest', family: 'nomic-bert' },
      { name: 'llama3.2:latest', family: 'llama' },
      { name: 'Qwen2.5:7B', family: 'qwen2' },
    ];
    expect(snippetModel(installed)).toBe('deepseek-r1:14b');
    expect(snippetModel(installed, ['llama3*'])).toBe('llama3.2:latest');
    expect(snippetModel(installed, ['nomic-embed-text', 'qwen2.5:7b'])).toBe('Qwen2.5:7B');
    expect(snippetModel(installed, ['nomic-embed-text'])).toBe('nomic-embed-text:latest');
    // `*` stays within a name, and a dot is a dot.
    expect(snippetModel(installed, ['llama3.2'])).toBe('llama3.2:latest');
    expect(snippetModel(installed, ['llama3x2'])).toBe('llama3x2');
    expect(snippetModel(installed, ['gemma2:*', 'mistral-nemo:12b'])).toBe('mistral-nemo:12b');
    expect(snippetModel(installed, ['gemma*'])).toBe('deepseek-r1:14b');
  });

  it('points snippets at a LAN address when there is one', () => {
    expect(preferredBaseUrl(['http://127.0.0.1:8000', 'http://192.168.1.5:8000'], 8000)).toBe('http://192.168.1.5:8000');
    expect(preferredBaseUrl(['http://localhost:8000'], 8000)).toBe('http://localhost:8000');
    expect(preferredBaseUrl([], 9000)).toBe('http://127.0.0.1:9000');
  });
});
