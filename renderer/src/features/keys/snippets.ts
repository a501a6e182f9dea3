import type { PlainMessageKey } from '../../i18n/translate.js';

export type SnippetId = 'curl' | 'ollama-js' | 'ollama-python' | 'langchain-python' | 'langchain-js' | 'openai' | 'open-webui';

export interface Snippet {
  id: SnippetId;
  /** the client's own name, the same in every language */
  label: string;
  language: 'shell' | 'javascript' | 'python' | 'text';
  code: string;
  /** a sentence about where the snippet goes */
  note: PlainMessageKey;
}

/**
 * What stands for the key in snippets shown after its creation: the window never has the secret
 * again (the gate keeps only a hash), so the user pastes it in place of this.
 */
export const KEY_PLACEHOLDER = 'YOUR_KEY';

export interface SnippetInput {
  /** the gate's URL as clients reach it, without a trailing slash */
  baseUrl: string;
  /** the secret, or KEY_PLACEHOLDER */
  key: string;
  /** a model the snippet asks for */
  model: string;
}

/**
 * Ready-to-paste code for each client, sending the key the way that client can:
 * a Bearer header everywhere, since nearly every client can send one.
 */
export function clientSnippets({ baseUrl, key, model }: SnippetInput): Snippet[] {
  const base = baseUrl.replace(/\/+$/, '');
  const bearer = `Bearer ${key}`;
  const body = ['{', `  "model": ${JSON.stringify(model)},`, '  "messages": [{"role": "user", "content": "Hello"}],', '  "stream": false', '}'].join('\n    ');
  return [
    {
      id: 'curl',
      label: 'curl',
      language: 'shell',
      note: 'snippets.note.curl',
      code: [`curl ${shellQuote(`${base}/api/chat`)} \\`, `  -H ${shellQuote(`Authorization: ${bearer}`)} \\`, `  -d ${shellQuote(body)}`].join('\n'),
    },
    {
      id: 'ollama-js',
      label: 'ollama-js',
      language: 'javascript',
      note: 'snippets.note.ollamaJs',
      code: `import { Ollama } from 'ollama';

const ollama = new Ollama({
  host: ${js(base)},
  headers: { Authorization: ${js(bearer)} },
});
const response = await ollama.chat({
  model: ${js(model)},
  messages: [{ role: 'user', content: 'Hello' }],
});
console.log(response.message.content);`,
    },
    {
      id: 'ollama-python',
      label: 'Python ollama',
      language: 'python',
      note: 'snippets.note.ollamaPython',
      code: `from ollama import Client

client = Client(
    host=${py(base)},
    headers={"Authorization": ${py(bearer)}},
)
response = client.chat(model=${py(model)}, messages=[{"role": "user", "content": "Hello"}])
print(response.message.content)`,
    },
    {
      id: 'langchain-python',
      label: 'LangChain (Python)',
      language: 'python',
      note: 'snippets.note.langchainPython',
      code: `from langchain_ollama import ChatOllama

llm = ChatOllama(
    model=${py(model)},
    base_url=${py(base)},
    client_kwargs={"headers": {"Authorization": ${py(bearer)}}},
)
print(llm.invoke("Hello").content)`,
    },
    {
      id: 'langchain-js',
      label: 'LangChain (JS)',
      language: 'javascript',
      note: 'snippets.note.langchainJs',
      code: `import { ChatOllama } from '@langchain/ollama';

const llm = new ChatOllama({
  model: ${js(model)},
  baseUrl: ${js(base)},
  headers: { Authorization: ${js(bearer)} },
});
const reply = await llm.invoke('Hello');
console.log(reply.content);`,
    },
    {
      id: 'openai',
      label: 'OpenAI SDK',
      language: 'python',
      note: 'snippets.note.openai',
      code: `from openai import OpenAI

client = OpenAI(base_url=${py(`${base}/v1`)}, api_key=${py(key)})
reply = client.chat.completions.create(
    model=${py(model)},
    messages=[{"role": "user", "content": "Hello"}],
)
print(reply.choices[0].message.content)`,
    },
    {
      id: 'open-webui',
      label: 'Open WebUI',
      language: 'text',
      note: 'snippets.note.openWebui',
      code: `URL: ${base}\nKey: ${key}`,
    },
  ];
}

/**
 * A model for the snippets: an installed one the key may use (so the snippet works as pasted),
 * a chat model rather than one only for embeddings; else a model the allow-list names.
 */
export function snippetModel(models: ReadonlyArray<{ name: string; family: string | null }>, allowed: readonly string[] = []): string {
  const usable = allowed.length ? models.filter((model) => allowed.some((pattern) => looksAllowed(pattern, model.name))) : models;
  const chat = usable.find((model) => !/bert|embed/i.test(`${model.family ?? ''} ${model.name}`));
  return chat?.name ?? usable[0]?.name ?? allowed.find((pattern) => !pattern.includes('*')) ?? models[0]?.name ?? 'llama3.2';
}

/**
 * Whether a pattern lets a model through, near enough to pick a snippet's model: without case,
 * `*` within one name, no tag meaning `:latest`. (The gate's own check is the one that counts.)
 */
function looksAllowed(pattern: string, model: string): boolean {
  const bare = (name: string) =>
    name
      .trim()
      .toLowerCase()
      .replace(/:latest$/, '');
  const parts = bare(pattern)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const regex = new RegExp('^' + parts.join('[^/@]*') + '$');
  return regex.test(bare(model));
}

/** The URL to put in snippets: a LAN address when the gate is shared (the key is for another machine), else the first one. */
export function preferredBaseUrl(urls: readonly string[], fallbackPort: number): string {
  const lan = urls.find((url) => !/^https?:\/\/(127\.|localhost|\[::1\])/.test(url));
  return (lan ?? urls[0] ?? `http://127.0.0.1:${fallbackPort}`).replace(/\/+$/, '');
}

/** A single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A single-quoted JavaScript string. */
function js(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** A double-quoted Python string (JSON's escapes are Python's). */
function py(text: string): string {
  return JSON.stringify(text);
}
