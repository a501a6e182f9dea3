/**
 * A faithful fake of the Ollama HTTP server, for integration tests of Ollama Gate.
 *
 * It copies Ollama's own source (server/routes.go, api/types.go, middleware/openai.go at v0.33) and
 * gin-contrib/cors v1.7.2. "§n" below names the part of that behaviour a piece copies: §1 routing,
 * §2 the Host and Origin checks (§2.2 CORS), §3 streaming, §4 the native endpoints (§4.1 generate,
 * §4.2 chat, §4.3 embeddings, §4.4 model management), §5 the OpenAI-compatible ones.
 * Only node built-ins are used, and everything runs over a real socket on 127.0.0.1:<random>.
 *
 * What the fake copies from the real server (Go net/http + gin):
 * - routing: 404 "404 page not found" (text/plain), 405 "405 method not allowed",
 *   gin's trailing-slash redirect and ServeMux's path cleaning, pprof outside gin (§1);
 * - the CORS (Origin) and Host checks, both answering 403 with an empty body (§2);
 * - NDJSON streams whose headers only leave with the first chunk (§3);
 * - Go's JSON encoding: struct key order, `<>&` escaped, RFC 3339 nano timestamps, ns durations.
 */
import { createHash, randomInt } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export interface FakeModel {
  name: string;
  size: number;
  family?: string;
  parameterSize?: string;
  quantization?: string;
  /** Ollama capabilities; defaults to ['embedding'] for bert families, ['completion'] otherwise. */
  capabilities?: string[];
}

export interface FakeOllamaOptions {
  /** Reported by /api/version. Default '0.12.6'. */
  version?: string;
  /** Installed models. Default: llama3.2:latest, qwen2.5:7b, all-minilm:latest (embedding). */
  models?: FakeModel[];
  /** Behave like Ollama bound to loopback: reject a non-local Host with 403. Default true. */
  hostCheck?: boolean;
  /** Allowed CORS origins (gin-contrib/cors wildcards, '*' = all). Replaces DEFAULT_ALLOWED_ORIGINS. */
  allowedOrigins?: string[];
  /** Listen host, default '127.0.0.1'. */
  host?: string;
  /** Listen port, default random; a fixed one lets a test bring "Ollama" back where it was. */
  port?: number;
}

/** Mutable at runtime through `fake.behaviour`; `reset()` restores the defaults. */
export interface FakeBehaviour {
  /** Delay before headers + first chunk of generate/chat/pull streams and before non-stream answers. */
  firstByteDelayMs: number;
  /** Delay between stream writes. Non-stream answers also wait `chunks × chunkDelayMs` ("generation"). */
  chunkDelayMs: number;
  /** Number of content chunks before the done chunk. */
  chunks: number;
  /** Write several lines in one write. */
  coalesce: boolean;
  /** How many lines go into one write when `coalesce` is on. Default 2. */
  coalesceLines?: number;
  /** Split every write in two halves (so lines arrive torn). */
  splitLines: boolean;
  /** After the content chunks, write an error line instead of the done chunk (status stays 200). */
  midStreamError?: string;
  /** End the stream cleanly but without a done chunk. */
  truncate: boolean;
  /** Destroy the socket abruptly after N content chunks (Ollama dying). */
  destroyAfterChunks?: number;
}

export interface RecordedRequest {
  id: number;
  method: string;
  /** Raw request URL (path + query) as received. */
  url: string;
  /** Raw pathname as received (not decoded, not cleaned). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** Full request body. Left empty for blob uploads, which are only hashed. */
  body: Buffer;
  /** Number of body bytes received (also for blob uploads). */
  bodyLength: number;
  /** sha256 (hex) of the body bytes received. */
  bodySha256: string;
  /** Parsed body when it parsed as JSON. */
  json?: unknown;
  receivedAt: number;
  /** The client closed the connection before the response finished. */
  clientAborted: boolean;
  /** Date.now() when the client abort was seen. */
  abortedAt?: number;
  /** The response was fully written. */
  finished: boolean;
  /** Response status, once headers were sent. */
  status?: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface FakeOllama {
  url: string;
  port: number;
  behaviour: FakeBehaviour;
  /** Recorded requests, in arrival order. */
  requests: RecordedRequest[];
  /** Clears requests and usage, restores default behaviour, models and blobs. */
  reset(): void;
  /** Resolves with an already-recorded or a future request (recorded once its body is read, or on abort). */
  waitForRequest(predicate?: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves with the distance in ms between the client abort and this call (either order); rejects on timeout. */
  waitForClientAbort(req: RecordedRequest, timeoutMs?: number): Promise<number>;
  /** Currently open TCP connections. */
  openConnections(): number;
  /** Closes all sockets and the server. */
  close(): Promise<void>;
  /** Token counts the fake reported in the final chunk (or usage object) of a given request. */
  usageFor(req: RecordedRequest): TokenUsage | undefined;
}

export const DEFAULT_VERSION = '0.12.6';

export const DEFAULT_MODELS: readonly FakeModel[] = [
  { name: 'llama3.2:latest', size: 2019393189, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M' },
  { name: 'qwen2.5:7b', size: 4683087332, family: 'qwen2', parameterSize: '7.6B', quantization: 'Q4_K_M' },
  { name: 'all-minilm:latest', size: 45960996, family: 'bert', parameterSize: '23M', quantization: 'F16' },
];

/** envconfig.AllowedOrigins() without OLLAMA_ORIGINS (§2.2). */
export const DEFAULT_ALLOWED_ORIGINS: readonly string[] = [
  ...['localhost', '127.0.0.1', '0.0.0.0'].flatMap((h) => [`http://${h}`, `https://${h}`, `http://${h}:*`, `https://${h}:*`]),
  'app://*',
  'file://*',
  'tauri://*',
  'vscode-webview://*',
  'vscode-file://*',
];

export function defaultBehaviour(): FakeBehaviour {
  return { firstByteDelayMs: 0, chunkDelayMs: 0, chunks: 3, coalesce: false, splitLines: false, truncate: false };
}

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const fake = new FakeOllamaServer(options);
  await fake.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return fake;
}

// ---------------------------------------------------------------------------------------------
// Go-flavoured encoding helpers
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const JSON_UTF8 = 'application/json; charset=utf-8'; // gin's c.JSON
const JSON_PLAIN = 'application/json'; // set by hand in Ollama (streams, OpenAI writers)
const NDJSON = 'application/x-ndjson';
const SSE = 'text/event-stream';

/** Go's encoding/json escapes <, >, & and U+2028/2029 inside strings; JSON.stringify does not. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Close enough to Go's %q for model names and digests. */
const goQuote = (s: string): string => JSON.stringify(s);

// Wall-clock nanoseconds: Date.now() only has ms, hrtime adds the sub-ms digits.
const EPOCH_NS_AT_START = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const nowNs = (): bigint => EPOCH_NS_AT_START + process.hrtime.bigint();

/** time.RFC3339Nano in UTC: nanoseconds with trailing zeros trimmed, `Z` suffix. */
function rfc3339Nano(ns: bigint = nowNs()): string {
  const seconds = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return fraction ? `${seconds}.${fraction}Z` : `${seconds}Z`;
}

const MODIFIED_AT = '2025-10-20T09:41:12.123456789Z';
const MODIFIED_AT_UNIX = Math.floor(Date.parse('2025-10-20T09:41:12Z') / 1000);

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const countWords = (text: string): number => text.split(/\s+/).filter(Boolean).length;

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/** A complete (non-streamed) response: Go sets Content-Length and drops the body for HEAD. */
function send(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...headers, 'Content-Length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

const sendEmpty = (res: ServerResponse, status: number): void => send(res, status, '');

function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

const sendGinJson = (res: ServerResponse, status: number, value: unknown, contentType = JSON_UTF8): void =>
  send(res, status, goJson(value), { 'Content-Type': contentType });

/** `{"error":"..."}`, the /api/* error shape. */
const sendApiError = (res: ServerResponse, status: number, message: string, contentType = JSON_UTF8): void =>
  sendGinJson(res, status, { error: message }, contentType);

function openAiError(status: number, message: string): Json {
  const type = status === 400 ? 'invalid_request_error' : status === 404 ? 'not_found_error' : 'api_error';
  return { error: { message, type, param: null, code: null } };
}

/** Errors of the native handler, re-encoded by the OpenAI middleware's writeError: trailing newline. */
const sendOpenAiError = (res: ServerResponse, status: number, message: string): void =>
  send(res, status, `${goJson(openAiError(status, message))}\n`, { 'Content-Type': JSON_PLAIN });

/** Errors raised by the OpenAI middleware itself (c.AbortWithStatusJSON): gin JSON, no newline. */
const sendOpenAiBindError = (res: ServerResponse, message: string): void => sendGinJson(res, 400, openAiError(400, message));

/** A successful OpenAI object: json.Encoder, so a trailing newline. */
const sendOpenAiJson = (res: ServerResponse, value: unknown): void => send(res, 200, `${goJson(value)}\n`, { 'Content-Type': JSON_PLAIN });

/** http.Redirect: a tiny HTML body only for GET/HEAD. */
function sendRedirect(res: ServerResponse, status: number, location: string): void {
  const method = res.req.method;
  if (method === 'GET' || method === 'HEAD') {
    const text = status === 301 ? 'Moved Permanently' : 'Temporary Redirect';
    send(res, status, `<a href="${location}">${text}</a>.\n\n`, {
      Location: location,
      'Content-Type': 'text/html; charset=utf-8',
    });
  } else {
    send(res, status, '', { Location: location });
  }
}

// ---------------------------------------------------------------------------------------------
// Request body binding (gin's ShouldBindJSON, with Go's error messages)
// ---------------------------------------------------------------------------------------------

type JsonKind = 'string' | 'number' | 'bool' | 'array' | 'object' | 'null';

interface GoStruct {
  name: string; // e.g. 'api.ChatRequest'
  fields: Record<string, [JsonKind, string]>; // json key -> [expected kind, Go type for the message]
}

const STRING: [JsonKind, string] = ['string', 'string'];
const BOOL: [JsonKind, string] = ['bool', 'bool'];

const GENERATE_REQUEST: GoStruct = { name: 'api.GenerateRequest', fields: { model: STRING, prompt: STRING, stream: BOOL } };
const CHAT_REQUEST: GoStruct = {
  name: 'api.ChatRequest',
  fields: { model: STRING, stream: BOOL, messages: ['array', '[]api.Message'] },
};
const EMBED_REQUEST: GoStruct = { name: 'api.EmbedRequest', fields: { model: STRING } };
const EMBEDDING_REQUEST: GoStruct = { name: 'api.EmbeddingRequest', fields: { model: STRING, prompt: STRING } };
const SHOW_REQUEST: GoStruct = { name: 'api.ShowRequest', fields: { model: STRING, name: STRING } };
const COPY_REQUEST: GoStruct = { name: 'api.CopyRequest', fields: { source: STRING, destination: STRING } };
const DELETE_REQUEST: GoStruct = { name: 'api.DeleteRequest', fields: { model: STRING, name: STRING } };
const PULL_REQUEST: GoStruct = { name: 'api.PullRequest', fields: { model: STRING, name: STRING, stream: BOOL } };
const PUSH_REQUEST: GoStruct = { name: 'api.PushRequest', fields: { model: STRING, name: STRING, stream: BOOL } };
const CREATE_REQUEST: GoStruct = { name: 'api.CreateRequest', fields: { model: STRING, name: STRING, stream: BOOL } };
const OPENAI_CHAT_REQUEST: GoStruct = {
  name: 'openai.ChatCompletionRequest',
  fields: { model: STRING, stream: BOOL, messages: ['array', '[]openai.Message'] },
};
const OPENAI_COMPLETION_REQUEST: GoStruct = {
  name: 'openai.CompletionRequest',
  fields: { model: STRING, prompt: STRING, stream: BOOL },
};
const OPENAI_EMBED_REQUEST: GoStruct = {
  name: 'openai.EmbedRequest',
  fields: { model: STRING, encoding_format: STRING },
};

type Bound = { ok: true; body: Json } | { ok: false; eof: boolean; message: string };

function jsonKind(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value as 'string' | 'number' | 'object';
}

/** Maps V8's JSON.parse message onto Go's json.Decoder wording (approximately). */
function goSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/end of JSON input|Unterminated/.test(message)) return 'unexpected EOF';
  const position = /at position (\d+)/.exec(message);
  const char = position ? text[Number(position[1])] : /Unexpected token '?(.)/.exec(message)?.[1];
  const where = /after JSON/.test(message) ? 'after top-level value' : 'looking for beginning of value';
  return `invalid character '${char ?? '?'}' ${where}`;
}

function bindJson(raw: Buffer, struct: GoStruct): Bound {
  const text = raw.toString('utf8');
  if (text.trim() === '') return { ok: false, eof: true, message: 'EOF' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, eof: false, message: goSyntaxError(text, error) };
  }
  const kind = jsonKind(parsed);
  if (kind === 'null') return { ok: true, body: {} }; // Go decodes `null` into a zero struct
  if (kind !== 'object') {
    return { ok: false, eof: false, message: `json: cannot unmarshal ${kind} into Go value of type ${struct.name}` };
  }
  const body = parsed as Json;
  const shortName = struct.name.slice(struct.name.indexOf('.') + 1);
  for (const [key, [expected, goType]] of Object.entries(struct.fields)) {
    const actual = jsonKind(body[key]);
    if (key in body && actual !== 'null' && actual !== expected) {
      const message = `json: cannot unmarshal ${actual} into Go struct field ${shortName}.${key} of type ${goType}`;
      return { ok: false, eof: false, message };
    }
  }
  return { ok: true, body };
}

/** /api/* handlers: io.EOF becomes "missing request body". */
function sendNativeBindError(res: ServerResponse, bound: Extract<Bound, { ok: false }>): void {
  sendApiError(res, 400, bound.eof ? 'missing request body' : bound.message);
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/** "llama3.2" -> "llama3.2:latest"; a colon after the last slash is a tag. */
function normalizeModelName(name: string): string {
  return name.lastIndexOf(':') > name.lastIndexOf('/') ? name : `${name}:latest`;
}

function capabilitiesOf(model: FakeModel): string[] {
  if (model.capabilities) return model.capabilities;
  return /bert/.test(model.family ?? '') ? ['embedding'] : ['completion'];
}

const modelDigest = (model: FakeModel): string => sha256Hex(`fake-ollama:${model.name}`);

/** Namespace of a model name, "library" for official models (OpenAI `owned_by`). */
function ownerOf(name: string): string {
  const parts = name.split('/');
  return parts.length >= 2 ? (parts[parts.length - 2] ?? 'library') : 'library';
}

function modelDetails(model: FakeModel): Json {
  const family = model.family ?? 'llama';
  return {
    parent_model: '',
    format: 'gguf',
    family,
    families: [family],
    parameter_size: model.parameterSize ?? '3.2B',
    quantization_level: model.quantization ?? 'Q4_K_M',
  };
}

function tagsEntry(model: FakeModel): Json {
  return {
    name: model.name,
    model: model.name,
    modified_at: MODIFIED_AT,
    size: model.size,
    digest: modelDigest(model),
    details: modelDetails(model),
  };
}

function showPayload(model: FakeModel): Json {
  const family = model.family ?? 'llama';
  return {
    license: 'Fake license for tests',
    modelfile: `# Modelfile generated by "ollama show"\nFROM ${model.name}\nTEMPLATE "{{ .Prompt }}"\n`,
    parameters: 'stop                           "<|eot_id|>"',
    template: '{{ if .System }}<|start_header_id|>system<|end_header_id|>{{ .System }}<|eot_id|>{{ end }}{{ .Prompt }}',
    details: modelDetails(model),
    // a Go map: keys come out sorted
    model_info: {
      'general.architecture': family,
      'general.basename': model.name.split(':')[0],
      'general.parameter_count': 3212749888,
      [`${family}.context_length`]: 131072,
      [`${family}.embedding_length`]: 3072,
    },
    capabilities: capabilitiesOf(model),
    modified_at: MODIFIED_AT,
  };
}

class ModelStore {
  private models: FakeModel[];

  constructor(private readonly initial: readonly FakeModel[]) {
    this.models = initial.map((m) => ({ ...m }));
  }

  reset(): void {
    this.models = this.initial.map((m) => ({ ...m }));
  }

  list(): readonly FakeModel[] {
    return this.models;
  }

  /** Ollama model names are case-insensitive and default to the `latest` tag. */
  find(name: string): FakeModel | undefined {
    if (!name) return undefined;
    const wanted = normalizeModelName(name).toLowerCase();
    return this.models.find((m) => normalizeModelName(m.name).toLowerCase() === wanted);
  }

  add(model: FakeModel): void {
    this.remove(model.name);
    this.models.push(model);
  }

  remove(name: string): boolean {
    const found = this.find(name);
    if (found) this.models = this.models.filter((m) => m !== found);
    return found !== undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Deterministic "generation"
// ---------------------------------------------------------------------------------------------

const SENTENCE = ['The', 'sky', 'is', 'blue', 'because', 'of', 'Rayleigh', 'scattering.'];

interface Generation {
  pieces: string[];
  doneReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

/** prompt tokens = words + 10 (the template), completion tokens = content chunks. */
function planGeneration(behaviour: FakeBehaviour, promptWords: number, maxTokens: unknown): Generation {
  const wanted = Math.max(0, Math.floor(behaviour.chunks));
  const limit = typeof maxTokens === 'number' && maxTokens > 0 && maxTokens < wanted ? maxTokens : wanted;
  const pieces = Array.from({ length: limit }, (_, i) => `${i === 0 ? '' : ' '}${SENTENCE[i % SENTENCE.length]}`);
  return {
    pieces,
    doneReason: limit < wanted ? 'length' : 'stop',
    promptTokens: promptWords + 10,
    completionTokens: limit,
  };
}

/** The six metrics of a done chunk, in Go struct order, in nanoseconds. */
function metrics(gen: Generation, startedNs: bigint): Json {
  const load = 1_334_875;
  const promptEval = gen.promptTokens * 1_250_000;
  const evalDuration = gen.completionTokens * 15_000_000;
  const elapsed = Number(nowNs() - startedNs);
  return {
    total_duration: Math.max(elapsed, load + promptEval + evalDuration),
    load_duration: load,
    prompt_eval_count: gen.promptTokens,
    prompt_eval_duration: promptEval,
    eval_count: gen.completionTokens,
    eval_duration: evalDuration,
  };
}

function openAiUsage(gen: Generation): Json {
  const total = gen.promptTokens + gen.completionTokens;
  return { prompt_tokens: gen.promptTokens, completion_tokens: gen.completionTokens, total_tokens: total };
}

/** Unit-length vector derived from sha256(text), rounded so Go's float32 output would match. */
function embedVector(text: string, dims: number): number[] {
  const raw: number[] = [];
  for (let block = 0; raw.length < dims; block++) {
    for (const byte of createHash('sha256').update(`${block}:${text}`).digest()) raw.push(byte / 127.5 - 1);
  }
  raw.length = dims;
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => Math.round((v / norm) * 1e6) / 1e6 || 0); // `|| 0` drops -0
}

/** Text of an OpenAI or native message content: a string or an array of {type:'text', text}. */
function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part: unknown) => str((part as Json | null)?.['text'])).join(' ');
}

function messagesWords(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  return messages.reduce((sum: number, m: unknown) => sum + countWords(messageText((m as Json | null)?.['content'])), 0);
}

// ---------------------------------------------------------------------------------------------
// Streaming engine
// ---------------------------------------------------------------------------------------------

interface StreamPlan {
  contentType: string;
  /** One entry per content chunk; rendered lazily so timestamps are taken at write time. */
  content: Array<() => string>;
  /** The final line(s) of a complete stream (done chunk, or SSE finish + usage + [DONE]). */
  tail: () => string;
  /** How a mid-stream error is written. */
  errorLine: (message: string) => string;
  /** Called right before the tail is written. */
  onComplete?: () => void;
}

/** One write: some lines, or the first/second half of them. */
interface WriteStep {
  lines: number[];
  part: 'all' | 'head' | 'rest';
}

interface StreamScript {
  lines: Array<() => string>;
  steps: WriteStep[];
  ending: 'end' | 'destroy';
  completes: boolean;
}

function scriptStream(plan: StreamPlan, b: FakeBehaviour): StreamScript {
  const dies = b.destroyAfterChunks !== undefined;
  const lines = dies ? plan.content.slice(0, Math.max(0, b.destroyAfterChunks ?? 0)) : [...plan.content];
  let completes = false;
  if (!dies && b.midStreamError !== undefined) {
    const message = b.midStreamError;
    lines.push(() => plan.errorLine(message));
  } else if (!dies && !b.truncate) {
    lines.push(() => {
      plan.onComplete?.();
      return plan.tail();
    });
    completes = true;
  }
  return { lines, steps: planWrites(lines.length, b), ending: dies ? 'destroy' : 'end', completes };
}

function planWrites(lineCount: number, b: FakeBehaviour): WriteStep[] {
  const perWrite = b.coalesce ? Math.max(2, Math.floor(b.coalesceLines ?? 2)) : 1;
  const steps: WriteStep[] = [];
  for (let first = 0; first < lineCount; first += perWrite) {
    const lines = Array.from({ length: Math.min(perWrite, lineCount - first) }, (_, i) => first + i);
    if (b.splitLines) steps.push({ lines, part: 'head' }, { lines, part: 'rest' });
    else steps.push({ lines, part: 'all' });
  }
  return steps;
}

/** Resolves false when the signal fires (client gone or server closing); the timer is cleared. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(Math.max(0, ms), undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Host and Origin checks (§2)
// ---------------------------------------------------------------------------------------------

/** net.SplitHostPort, falling back to the whole value when it has no port. */
function hostWithoutPort(host: string): string {
  const bracketed = /^\[([^\]]*)\]:[^:]*$/.exec(host);
  if (bracketed) return bracketed[1] ?? '';
  const colons = host.split(':').length - 1;
  return colons === 1 ? host.slice(0, host.indexOf(':')) : host;
}

/** Eight 16-bit groups of an IPv6 literal (IPv4 tail and `::` expanded). */
function ipv6Groups(ip: string): number[] {
  let text = ip.split('%')[0] ?? '';
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Tail[1].split('.').map(Number);
    text = `${text.slice(0, -v4Tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const zeros = right === undefined ? [] : Array<string>(8 - head.length - tail.length).fill('0');
  return [...head, ...zeros, ...tail].map((g) => parseInt(g, 16));
}

/** IPv4 octets of an address, unmapping ::ffff:a.b.c.d; undefined for real IPv6. */
function ipv4Octets(ip: string): number[] | undefined {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  const g = ipv6Groups(ip);
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  if (!mapped) return undefined;
  const [hi = 0, lo = 0] = g.slice(6);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

/** netip.Addr IsLoopback || IsPrivate || IsUnspecified. */
function isLoopbackPrivateOrUnspecified(ip: string): boolean {
  const v4 = ipv4Octets(ip);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || v4.every((x) => x === 0);
  }
  const g = ipv6Groups(ip);
  const allZeroBut = (last: number): boolean => g.slice(0, 7).every((x) => x === 0) && g[7] === last;
  return allZeroBut(1) || allZeroBut(0) || ((g[0] ?? 0) & 0xfe00) === 0xfc00;
}

/** isLocalIP: one of this machine's interface addresses. */
function isInterfaceAddress(ip: string): boolean {
  const canonical = (a: string): string => (isIP(a) === 6 ? ipv6Groups(a).join(':') : a);
  const wanted = canonical(ip);
  return Object.values(os.networkInterfaces()).some((list) => (list ?? []).some((i) => canonical(i.address) === wanted));
}

/** allowedHost: localhost, the machine's hostname, and the local TLDs. */
function isLocalHostname(host: string): boolean {
  const name = host.toLowerCase();
  if (name === '' || name === 'localhost' || name === os.hostname().toLowerCase()) return true;
  return ['.localhost', '.local', '.internal'].some((tld) => name.endsWith(tld));
}

/** gin-contrib/cors: exact (lower-cased) entries, or one `*` wildcard per entry. */
function originAllowed(origin: string, allowed: readonly string[]): boolean {
  return allowed.some((rule) => {
    const star = rule.indexOf('*');
    if (star === -1) return rule.trim().toLowerCase() === origin;
    return origin.startsWith(rule.slice(0, star)) && origin.endsWith(rule.slice(star + 1));
  });
}

const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'User-Agent',
  'Accept',
  'X-Requested-With',
  'Openai-Beta',
  'X-Stainless-Arch',
  'X-Stainless-Async',
  'X-Stainless-Custom-Poll-Interval',
  'X-Stainless-Helper-Method',
  'X-Stainless-Lang',
  'X-Stainless-Os',
  'X-Stainless-Package-Version',
  'X-Stainless-Poll-Helper',
  'X-Stainless-Retry-Count',
  'X-Stainless-Runtime',
  'X-Stainless-Runtime-Version',
  'X-Stainless-Timeout',
].join(',');

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  params: Record<string, string>;
  /** Fires when the client goes away or the fake shuts down. */
  signal: AbortSignal;
  /** Kill the connection on purpose (Ollama dying); not counted as a client abort. */
  destroy(): void;
}

type Handler = (ctx: RequestContext) => void | Promise<void>;

interface Route {
  segments: string[];
  methods: Partial<Record<string, Handler>>;
}

function matchRoute(routes: readonly Route[], path: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split('/').slice(1);
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = route.segments.every((pattern, i) => {
      const actual = segments[i] ?? '';
      if (!pattern.startsWith(':')) return pattern === actual;
      params[pattern.slice(1)] = actual;
      return actual !== '';
    });
    if (matches) return { route, params };
  }
  return undefined;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** ServeMux's cleanPath: resolve `//`, `.` and `..`, keep a trailing slash. */
function cleanPath(path: string): string {
  const cleaned = posix.normalize(path.startsWith('/') ? path : `/${path}`);
  return cleaned.length > 1 && cleaned.endsWith('/') && !path.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

const DIGEST_FORMAT = /^sha256[:-][0-9a-fA-F]{64}$/;

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

class FakeOllamaServer implements FakeOllama {
  url = '';
  port = 0;
  readonly behaviour: FakeBehaviour = defaultBehaviour();
  readonly requests: RecordedRequest[] = [];

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly events = new EventEmitter();
  private readonly usage = new Map<number, TokenUsage>();
  private readonly inFlight = new Set<AbortController>();
  private readonly blobs = new Set<string>();
  private readonly loaded = new Map<string, FakeModel>();
  private readonly models: ModelStore;
  private readonly routes: readonly Route[];
  private readonly version: string;
  private readonly hostCheck: boolean;
  private readonly allowedOrigins: readonly string[];
  private nextId = 1;
  private closing = false;

  constructor(options: FakeOllamaOptions) {
    this.version = options.version ?? DEFAULT_VERSION;
    this.models = new ModelStore(options.models ?? DEFAULT_MODELS);
    this.hostCheck = options.hostCheck ?? true;
    this.allowedOrigins = options.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS;
    this.routes = this.buildRoutes();
    this.events.setMaxListeners(0);
    // Go's http.Server has no timeouts at all (§1); Node's defaults would cut long tests short.
    this.server = http.createServer({ requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 0;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${this.port}`;
  }

  // --- FakeOllama API ---------------------------------------------------------------------

  reset(): void {
    this.requests.length = 0;
    this.usage.clear();
    this.blobs.clear();
    this.loaded.clear();
    this.models.reset();
    const current = this.behaviour as unknown as Record<string, unknown>;
    for (const key of Object.keys(current)) delete current[key];
    Object.assign(this.behaviour, defaultBehaviour());
  }

  waitForRequest(predicate: (r: RecordedRequest) => boolean = () => true, timeoutMs = 5000): Promise<RecordedRequest> {
    const existing = this.requests.find(predicate);
    if (existing) return Promise.resolve(existing);
    return this.waitForEvent('request', predicate, timeoutMs, 'no matching request');
  }

  async waitForClientAbort(req: RecordedRequest, timeoutMs = 5000): Promise<number> {
    const calledAt = Date.now();
    if (req.abortedAt !== undefined) return calledAt - req.abortedAt;
    const aborted = await this.waitForEvent('abort', (r) => r.id === req.id, timeoutMs, `request #${req.id} was not aborted`);
    return (aborted.abortedAt ?? calledAt) - calledAt;
  }

  openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const controller of this.inFlight) controller.abort();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  usageFor(req: RecordedRequest): TokenUsage | undefined {
    return this.usage.get(req.id);
  }

  // --- Request lifecycle --------------------------------------------------------------------

  private waitForEvent(event: 'request' | 'abort', predicate: (r: RecordedRequest) => boolean, timeoutMs: number, what: string): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const onEvent = (r: RecordedRequest): void => {
        if (!predicate(r)) return;
        cleanup();
        resolve(r);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake-ollama: ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off(event, onEvent);
      };
      this.events.on(event, onEvent);
    });
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const record = newRecord(this.nextId++, req);
    const controller = new AbortController();
    this.inFlight.add(controller);
    let committed = false;
    let destroyedByFake = false;
    const commit = (): void => {
      if (committed) return;
      committed = true;
      this.addRecord(record);
    };

    res.on('finish', () => {
      record.finished = true;
      record.status = res.statusCode;
    });
    res.on('close', () => {
      this.inFlight.delete(controller);
      if (res.headersSent) record.status = res.statusCode;
      const clientGone = !res.writableFinished && !destroyedByFake && !this.closing;
      if (clientGone) {
        record.clientAborted = true;
        record.abortedAt = Date.now();
      }
      controller.abort(); // stops any pending timer of this request
      commit(); // a body that never completed is recorded now
      if (clientGone) this.events.emit('abort', record);
    });
    req.on('error', () => {
      // ECONNRESET from a vanished client: handled through res 'close'.
    });

    const ctx: RequestContext = {
      req,
      res,
      record,
      params: {},
      signal: controller.signal,
      destroy: () => {
        destroyedByFake = true;
        res.socket?.destroy();
      },
    };
    // Blob uploads can be huge: hash them while they arrive instead of keeping them.
    const keepBody = !(req.method === 'POST' && safeDecode(record.path).startsWith('/api/blobs/'));
    void readBody(req, record, keepBody).then(async (complete) => {
      if (!complete) return;
      commit();
      try {
        await this.dispatch(ctx);
      } catch (error) {
        this.failInternally(ctx, error);
      }
    });
  }

  private addRecord(record: RecordedRequest): void {
    // Keep arrival (id) order even when a slow body is recorded after a later request.
    let index = this.requests.length;
    while (index > 0 && (this.requests[index - 1]?.id ?? 0) > record.id) index--;
    this.requests.splice(index, 0, record);
    this.events.emit('request', record);
  }

  private failInternally(ctx: RequestContext, error: unknown): void {
    if (ctx.res.headersSent) ctx.destroy();
    else sendApiError(ctx.res, 500, error instanceof Error ? error.message : String(error));
  }

  /** Go's order: ServeMux (pprof, path cleaning), gin routing, CORS, Host check, handler. */
  private async dispatch(ctx: RequestContext): Promise<void> {
    const { res, record } = ctx;
    const method = record.method;
    const path = safeDecode(record.path);
    const query = record.url.includes('?') ? record.url.slice(record.url.indexOf('?')) : '';

    if (path === '/debug/pprof' || path.startsWith('/debug/pprof/')) return servePprof(res, path, query);
    const cleaned = cleanPath(path);
    if (method !== 'CONNECT' && cleaned !== path) return sendRedirect(res, 301, encodeURI(cleaned) + query);

    const match = matchRoute(this.routes, path);
    if (!match && path !== '/' && path.endsWith('/')) {
      // gin's RedirectTrailingSlash runs before any middleware
      const withoutSlash = matchRoute(this.routes, path.slice(0, -1));
      if (withoutSlash?.route.methods[method]) {
        return sendRedirect(res, method === 'GET' ? 301 : 307, encodeURI(path.slice(0, -1)) + query);
      }
    }

    if (!this.passesCors(ctx) || !this.passesHostCheck(ctx)) return;
    if (!match) return send(res, 404, '404 page not found', { 'Content-Type': 'text/plain' });
    const handler = match.route.methods[method];
    if (!handler) return send(res, 405, '405 method not allowed', { 'Content-Type': 'text/plain' });
    ctx.params = match.params;
    await handler(ctx);
  }

  private passesCors({ req, res }: RequestContext): boolean {
    const origin = req.headers.origin;
    if (!origin) return true;
    const host = req.headers.host ?? '';
    if (origin === `http://${host}` || origin === `https://${host}`) return true; // same origin
    if (!originAllowed(origin, this.allowedOrigins)) {
      sendEmpty(res, 403);
      return false;
    }
    const allowAll = this.allowedOrigins.includes('*');
    res.setHeader('Access-Control-Allow-Origin', allowAll ? '*' : origin);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '43200');
      if (!allowAll) res.setHeader('Vary', ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']);
      sendNoContent(res);
      return false;
    }
    if (!allowAll) res.setHeader('Vary', 'Origin');
    return true;
  }

  private passesHostCheck({ req, res }: RequestContext): boolean {
    if (!this.hostCheck) return true;
    const host = hostWithoutPort(req.headers.host ?? '');
    if (isIP(host) && (isLoopbackPrivateOrUnspecified(host) || isInterfaceAddress(host))) return true;
    if (isLocalHostname(host)) {
      if (req.method !== 'OPTIONS') return true;
      sendNoContent(res);
      return false;
    }
    sendEmpty(res, 403);
    return false;
  }

  private buildRoutes(): Route[] {
    const route = (pattern: string, methods: Partial<Record<string, Handler>>): Route => ({
      segments: pattern.split('/').slice(1),
      methods,
    });
    const root: Handler = ({ res }) => send(res, 200, 'Ollama is running', { 'Content-Type': 'text/plain; charset=utf-8' });
    const version: Handler = ({ res }) => sendGinJson(res, 200, { version: this.version });
    const tags: Handler = ({ res }) => sendGinJson(res, 200, { models: this.models.list().map(tagsEntry) });
    return [
      route('/', { GET: root, HEAD: root }),
      route('/api/version', { GET: version, HEAD: version }),
      route('/api/tags', { GET: tags, HEAD: tags }),
      route('/api/ps', { GET: (ctx) => this.ps(ctx) }),
      route('/api/show', { POST: (ctx) => this.show(ctx) }),
      route('/api/copy', { POST: (ctx) => this.copy(ctx) }),
      route('/api/delete', { DELETE: (ctx) => this.deleteModel(ctx) }),
      route('/api/pull', { POST: (ctx) => this.pull(ctx) }),
      route('/api/push', { POST: (ctx) => this.push(ctx) }),
      route('/api/create', { POST: (ctx) => this.create(ctx) }),
      route('/api/blobs/:digest', { HEAD: (ctx) => this.headBlob(ctx), POST: (ctx) => this.postBlob(ctx) }),
      route('/api/generate', { POST: (ctx) => this.generate(ctx) }),
      route('/api/chat', { POST: (ctx) => this.chat(ctx) }),
      route('/api/embed', { POST: (ctx) => this.embed(ctx) }),
      route('/api/embeddings', { POST: (ctx) => this.embeddings(ctx) }),
      route('/v1/chat/completions', { POST: (ctx) => this.openAiChat(ctx) }),
      route('/v1/completions', { POST: (ctx) => this.openAiCompletion(ctx) }),
      route('/v1/embeddings', { POST: (ctx) => this.openAiEmbeddings(ctx) }),
      route('/v1/models', { GET: (ctx) => this.openAiModels(ctx) }),
      route('/v1/models/:model', { GET: (ctx) => this.openAiModel(ctx) }),
    ];
  }

  // --- Shared helpers for handlers -------------------------------------------------------------

  private snapshot(): FakeBehaviour {
    return { ...this.behaviour };
  }

  private recordUsage(ctx: RequestContext, gen: Pick<Generation, 'promptTokens' | 'completionTokens'>): void {
    this.usage.set(ctx.record.id, { promptTokens: gen.promptTokens, completionTokens: gen.completionTokens });
  }

  /** Runs a stream plan, honouring every behaviour flag; stops as soon as the client is gone. */
  private async runStream(ctx: RequestContext, plan: StreamPlan, b: FakeBehaviour): Promise<void> {
    const { res, signal } = ctx;
    const script = scriptStream(plan, b);
    const rendered: string[] = [];
    const render = (i: number): string => (rendered[i] ??= script.lines[i]?.() ?? '');

    // Like gin, the headers leave together with the first chunk, never before it.
    const writeHeadOnce = (): void => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': plan.contentType });
    };
    if (!(await pause(b.firstByteDelayMs, signal))) return;
    let flushed: Promise<void> = Promise.resolve();
    for (const [index, step] of script.steps.entries()) {
      if (index > 0 && !(await pause(b.chunkDelayMs, signal))) return;
      if (res.destroyed) return;
      const bytes = Buffer.from(step.lines.map(render).join(''));
      const middle = Math.ceil(bytes.length / 2);
      const part = step.part === 'all' ? bytes : step.part === 'head' ? bytes.subarray(0, middle) : bytes.subarray(middle);
      writeHeadOnce();
      flushed = new Promise((resolve) => res.write(part, () => resolve()));
    }
    if (script.ending === 'end') {
      writeHeadOnce();
      return void res.end();
    }
    // Let the chunks already written reach the kernel first, or destroy() would drop them.
    await Promise.race([flushed, once(signal, 'abort')]);
    ctx.destroy();
  }

  /**
   * A non-streamed answer waits for the whole "generation". 'gone': the client left or the socket
   * was destroyed on purpose; 'error': answer with midStreamError; 'ok': send the answer.
   */
  private async awaitGeneration(ctx: RequestContext, b: FakeBehaviour, chunks: number): Promise<'ok' | 'error' | 'gone'> {
    if (!(await pause(b.firstByteDelayMs + chunks * b.chunkDelayMs, ctx.signal))) return 'gone';
    if (b.destroyAfterChunks !== undefined) {
      ctx.destroy();
      return 'gone';
    }
    return b.midStreamError !== undefined ? 'error' : 'ok';
  }

  private markLoaded(model: FakeModel): void {
    this.loaded.set(model.name, model);
  }

  // --- /api/generate and /api/chat (§4.1, §4.2) -----------------------------------------------

  private async generate(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, GENERATE_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const body = bound.body;
    const name = str(body['model']);
    const model = this.models.find(name);
    if (!model) return sendApiError(ctx.res, 404, `model '${name}' not found`);
    if (!capabilitiesOf(model).includes('completion')) {
      return sendApiError(ctx.res, 400, `${goQuote(name)} does not support generate`);
    }
    this.markLoaded(model);

    const prompt = str(body['prompt']);
    if (prompt === '') {
      return this.sendLoadResponse(ctx, body, (doneReason) => ({
        model: name,
        created_at: rfc3339Nano(),
        response: '',
        done: true,
        done_reason: doneReason,
      }));
    }

    const b = this.snapshot();
    const gen = planGeneration(b, countWords(prompt), (body['options'] as Json | undefined)?.['num_predict']);
    const startedNs = nowNs();
    const tokenIds = Array.from({ length: gen.promptTokens + gen.completionTokens }, (_, i) => 128000 + i);
    const context = body['raw'] === true ? {} : { context: tokenIds }; // omitted for raw prompts
    const chunk = (response: string): Json => ({ model: name, created_at: rfc3339Nano(), response, done: false });
    const final = (response: string): Json => ({
      model: name,
      created_at: rfc3339Nano(),
      response,
      done: true,
      done_reason: gen.doneReason,
      ...context,
      ...metrics(gen, startedNs),
    });

    if (body['stream'] === false) return this.sendNonStreamed(ctx, b, gen, () => final(gen.pieces.join('')));
    await this.runStream(
      ctx,
      {
        contentType: NDJSON,
        content: gen.pieces.map((piece) => () => `${goJson(chunk(piece))}\n`),
        tail: () => `${goJson(final(''))}\n`,
        errorLine: (message) => `${goJson({ error: message })}\n`,
        onComplete: () => this.recordUsage(ctx, gen),
      },
      b,
    );
  }

  private async chat(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, CHAT_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const body = bound.body;
    const name = str(body['model']);
    if (name === '') return sendApiError(ctx.res, 400, 'model is required');
    const model = this.models.find(name);
    if (!model) return sendApiError(ctx.res, 404, `model '${name}' not found`);
    if (!capabilitiesOf(model).includes('completion')) {
      return sendApiError(ctx.res, 400, `${goQuote(name)} does not support chat`);
    }
    this.markLoaded(model);

    const messages = Array.isArray(body['messages']) ? body['messages'] : [];
    const message = (content: string): Json => ({ role: 'assistant', content });
    if (messages.length === 0) {
      return this.sendLoadResponse(ctx, body, (doneReason) => ({
        model: name,
        created_at: rfc3339Nano(),
        message: message(''),
        done: true,
        done_reason: doneReason,
      }));
    }

    const b = this.snapshot();
    const gen = planGeneration(b, messagesWords(messages), (body['options'] as Json | undefined)?.['num_predict']);
    const startedNs = nowNs();
    // v0.12+ key order: done before done_reason, metrics last
    const chunk = (content: string): Json => ({ model: name, created_at: rfc3339Nano(), message: message(content), done: false });
    const final = (content: string): Json => ({
      model: name,
      created_at: rfc3339Nano(),
      message: message(content),
      done: true,
      done_reason: gen.doneReason,
      ...metrics(gen, startedNs),
    });

    if (body['stream'] === false) return this.sendNonStreamed(ctx, b, gen, () => final(gen.pieces.join('')));
    await this.runStream(
      ctx,
      {
        contentType: NDJSON,
        content: gen.pieces.map((piece) => () => `${goJson(chunk(piece))}\n`),
        tail: () => `${goJson(final(''))}\n`,
        errorLine: (msg) => `${goJson({ error: msg })}\n`,
        onComplete: () => this.recordUsage(ctx, gen),
      },
      b,
    );
  }

  /** Empty prompt/messages only load (or, with keep_alive 0, unload) the model: one c.JSON. */
  private async sendLoadResponse(ctx: RequestContext, body: Json, build: (doneReason: string) => Json): Promise<void> {
    const keepAlive = body['keep_alive'];
    const unload = keepAlive === 0 || keepAlive === '0' || keepAlive === '0s';
    if (!(await pause(this.behaviour.firstByteDelayMs, ctx.signal))) return;
    sendGinJson(ctx.res, 200, build(unload ? 'unload' : 'load'));
  }

  /** generate/chat with "stream": false: one c.JSON object, or 500 for a generation error. */
  private async sendNonStreamed(ctx: RequestContext, b: FakeBehaviour, gen: Generation, build: () => Json): Promise<void> {
    const outcome = await this.awaitGeneration(ctx, b, gen.pieces.length);
    if (outcome === 'gone') return;
    if (outcome === 'error') return sendApiError(ctx.res, 500, b.midStreamError ?? '');
    this.recordUsage(ctx, gen);
    sendGinJson(ctx.res, 200, build());
  }

  // --- /api/embed and /api/embeddings (§4.3) --------------------------------------------------

  private embed(ctx: RequestContext): void {
    const bound = bindJson(ctx.record.body, EMBED_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const body = bound.body;
    const name = str(body['model']);
    const input = body['input'];
    let inputs: string[];
    if (typeof input === 'string') inputs = input ? [input] : [];
    else if (Array.isArray(input) && input.every((v) => typeof v === 'string')) inputs = input as string[];
    else if (input === undefined || input === null) inputs = [];
    else return sendApiError(ctx.res, 400, 'invalid input type');
    if (inputs.length === 0) return sendGinJson(ctx.res, 200, { model: name, embeddings: [] });

    const model = this.models.find(name);
    if (!model) return sendApiError(ctx.res, 404, `model '${name}' not found`);
    this.markLoaded(model);
    const dims = typeof body['dimensions'] === 'number' && body['dimensions'] > 0 ? Math.floor(body['dimensions']) : 8;
    const promptTokens = inputs.reduce((sum, text) => sum + Math.max(1, countWords(text)), 0);
    this.recordUsage(ctx, { promptTokens, completionTokens: 0 });
    sendGinJson(ctx.res, 200, {
      model: name,
      embeddings: inputs.map((text) => embedVector(text, dims)),
      total_duration: 14_143_917,
      load_duration: 1_019_500,
      prompt_eval_count: promptTokens,
    });
  }

  private embeddings(ctx: RequestContext): void {
    const bound = bindJson(ctx.record.body, EMBEDDING_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const name = str(bound.body['model']);
    const model = this.models.find(name);
    if (!model) return sendApiError(ctx.res, 404, `model '${name}' not found`);
    this.markLoaded(model);
    const prompt = str(bound.body['prompt']);
    sendGinJson(ctx.res, 200, { embedding: prompt ? embedVector(prompt, 8) : [] });
  }

  // --- Model management (§4.4) -----------------------------------------------------------------

  private ps({ res }: RequestContext): void {
    const expiresAt = rfc3339Nano(nowNs() + 300_000_000_000n); // the default keep_alive of 5m
    const models = [...this.loaded.values()].map((m) => ({
      name: m.name,
      model: m.name,
      size: m.size,
      digest: modelDigest(m),
      details: modelDetails(m),
      expires_at: expiresAt,
      size_vram: m.size,
      context_length: 4096,
    }));
    sendGinJson(res, 200, { models });
  }

  private show(ctx: RequestContext): void {
    const bound = bindJson(ctx.record.body, SHOW_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const name = str(bound.body['model']) || str(bound.body['name']);
    if (name === '') return sendApiError(ctx.res, 400, 'model is required');
    const model = this.models.find(name);
    if (!model) return sendApiError(ctx.res, 404, `model '${normalizeModelName(name)}' not found`);
    sendGinJson(ctx.res, 200, showPayload(model));
  }

  private copy(ctx: RequestContext): void {
    const bound = bindJson(ctx.record.body, COPY_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const source = str(bound.body['source']);
    const destination = str(bound.body['destination']);
    if (source === '') return sendApiError(ctx.res, 400, `source ${goQuote(source)} is invalid`);
    if (destination === '') return sendApiError(ctx.res, 400, `destination ${goQuote(destination)} is invalid`);
    const model = this.models.find(source);
    if (!model) return sendApiError(ctx.res, 404, `model ${goQuote(source)} not found`);
    this.models.add({ ...model, name: normalizeModelName(destination) });
    sendEmpty(ctx.res, 200);
  }

  private deleteModel(ctx: RequestContext): void {
    const bound = bindJson(ctx.record.body, DELETE_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const name = str(bound.body['model']) || str(bound.body['name']);
    if (name === '') return sendApiError(ctx.res, 400, `name ${goQuote(name)} is invalid`);
    const model = this.models.find(name);
    if (!model) return sendApiError(ctx.res, 404, `model '${name}' not found`);
    this.models.remove(name);
    this.loaded.delete(model.name);
    sendEmpty(ctx.res, 200);
  }

  private async pull(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, PULL_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const name = str(bound.body['model']) || str(bound.body['name']);
    if (name === '') return sendApiError(ctx.res, 400, 'invalid model name');
    const model = this.models.find(name) ?? { name: normalizeModelName(name), size: 2019393189 };
    const digest = `sha256:${modelDigest(model)}`;
    const layer = { status: `pulling ${digest.slice(7, 19)}`, digest, total: model.size };
    await this.progress(
      ctx,
      bound.body,
      [
        { status: 'pulling manifest' },
        { ...layer, completed: Math.floor(model.size / 2) },
        { ...layer, completed: model.size },
        { status: 'verifying sha256 digest' },
        { status: 'writing manifest' },
      ],
      () => this.models.add(model),
    );
  }

  private async push(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, PUSH_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const name = str(bound.body['model']) || str(bound.body['name']);
    if (name === '') return sendApiError(ctx.res, 400, 'model is required');
    const model = this.models.find(name) ?? { name, size: 2019393189 };
    const digest = `sha256:${modelDigest(model)}`;
    await this.progress(ctx, bound.body, [
      { status: 'retrieving manifest' },
      { status: `pushing ${digest.slice(7, 19)}`, digest, total: model.size, completed: model.size },
      { status: 'pushing manifest' },
    ]);
  }

  private async create(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, CREATE_REQUEST);
    if (!bound.ok) return sendNativeBindError(ctx.res, bound);
    const name = str(bound.body['model']) || str(bound.body['name']);
    if (name === '') return sendApiError(ctx.res, 400, 'invalid model name');
    const files = bound.body['files'];
    const digests = files && typeof files === 'object' ? Object.values(files as Json).map(str) : [];
    await this.progress(
      ctx,
      bound.body,
      [{ status: 'gathering model components' }, ...digests.map((d) => ({ status: `using existing layer ${d}` })), { status: 'writing manifest' }],
      () => this.models.add({ name: normalizeModelName(name), size: 2019393189 }),
    );
  }

  /** pull/push/create: NDJSON progress ending with success; stream:false gives only the last line. */
  private async progress(ctx: RequestContext, body: Json, steps: Json[], onSuccess?: () => void): Promise<void> {
    const b = this.snapshot();
    if (body['stream'] === false) {
      const outcome = await this.awaitGeneration(ctx, b, steps.length);
      if (outcome === 'gone') return;
      // waitForStream sets a charset-less application/json, also for its errors
      if (outcome === 'error') return sendApiError(ctx.res, 500, b.midStreamError ?? '', JSON_PLAIN);
      onSuccess?.();
      return sendGinJson(ctx.res, 200, { status: 'success' }, JSON_PLAIN);
    }
    await this.runStream(
      ctx,
      {
        contentType: NDJSON,
        content: steps.map((step) => () => `${goJson(step)}\n`),
        tail: () => `${goJson({ status: 'success' })}\n`,
        errorLine: (message) => `${goJson({ error: message })}\n`,
        onComplete: onSuccess,
      },
      b,
    );
  }

  /** The digest is in the path: `sha256:<hex>` or `sha256-<hex>`. */
  private headBlob({ res, params }: RequestContext): void {
    const digest = params['digest'] ?? '';
    if (!DIGEST_FORMAT.test(digest)) return sendApiError(res, 400, 'invalid digest format');
    if (!this.blobs.has(`sha256:${digest.slice(7)}`)) return sendApiError(res, 404, `blob ${goQuote(digest)} not found`);
    sendEmpty(res, 200);
  }

  private postBlob({ res, params, record }: RequestContext): void {
    const digest = params['digest'] ?? '';
    if (!DIGEST_FORMAT.test(digest)) return sendApiError(res, 400, 'invalid digest format');
    const key = `sha256:${digest.slice(7)}`;
    if (this.blobs.has(key)) return sendEmpty(res, 200);
    const actual = `sha256:${record.bodySha256}`;
    if (actual !== digest) {
      return sendApiError(res, 400, `digest mismatch, expected ${goQuote(digest)}, got ${goQuote(actual)}`);
    }
    this.blobs.add(key);
    sendEmpty(res, 201);
  }

  // --- OpenAI-compatible /v1 (§5) --------------------------------------------------------------

  /** Native model checks, surfaced through the middleware's writeError. */
  private openAiModelFor(ctx: RequestContext, name: string, requireName: boolean): FakeModel | undefined {
    if (requireName && name === '') {
      sendOpenAiError(ctx.res, 400, 'model is required');
      return undefined;
    }
    const model = this.models.find(name);
    if (!model) sendOpenAiError(ctx.res, 404, `model '${name}' not found`);
    else this.markLoaded(model);
    return model;
  }

  private async openAiChat(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, OPENAI_CHAT_REQUEST);
    if (!bound.ok) return sendOpenAiBindError(ctx.res, bound.message);
    const body = bound.body;
    const messages = Array.isArray(body['messages']) ? body['messages'] : [];
    if (messages.length === 0) return sendOpenAiBindError(ctx.res, "[] is too short - 'messages'");
    const name = str(body['model']);
    if (!this.openAiModelFor(ctx, name, true)) return;

    const b = this.snapshot();
    const gen = planGeneration(b, messagesWords(messages), body['max_tokens']);
    const id = `chatcmpl-${randomInt(999)}`;
    const created = Math.floor(Date.now() / 1000); // shared by every chunk of a stream
    const usage = openAiUsage(gen);
    const envelope = (object: string): Json => ({ id, object, created, model: name, system_fingerprint: 'fp_ollama' });

    if (body['stream'] !== true) {
      const outcome = await this.awaitGeneration(ctx, b, gen.pieces.length);
      if (outcome === 'gone') return;
      if (outcome === 'error') return sendOpenAiError(ctx.res, 500, b.midStreamError ?? '');
      this.recordUsage(ctx, gen);
      return sendOpenAiJson(ctx.res, {
        ...envelope('chat.completion'),
        choices: [{ index: 0, message: { role: 'assistant', content: gen.pieces.join('') }, finish_reason: gen.doneReason }],
        usage,
      });
    }

    // v0.32.6+ wire format: role only in the first delta, a separate finish chunk, optional usage chunk
    const includeUsage = (body['stream_options'] as Json | undefined)?.['include_usage'] === true;
    const frame = (value: unknown): string => `data: ${goJson(value)}\n\n`;
    const chunk = (delta: Json, finishReason: string | null): Json => ({
      ...envelope('chat.completion.chunk'),
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
    await this.runStream(
      ctx,
      {
        contentType: SSE,
        content: gen.pieces.map((piece, i) => () => {
          const delta = i === 0 ? { role: 'assistant', content: piece } : { content: piece };
          return frame(chunk(delta, null));
        }),
        tail: () =>
          frame(chunk({}, gen.doneReason)) + (includeUsage ? frame({ ...envelope('chat.completion.chunk'), choices: [], usage }) : '') + 'data: [DONE]\n\n',
        // A deliberate choice: an OpenAI-shaped error frame, which openai-node turns into an APIError.
        errorLine: (message) => frame(openAiError(500, message)),
        onComplete: () => {
          if (includeUsage) this.recordUsage(ctx, gen);
        },
      },
      b,
    );
  }

  private async openAiCompletion(ctx: RequestContext): Promise<void> {
    const bound = bindJson(ctx.record.body, OPENAI_COMPLETION_REQUEST);
    if (!bound.ok) return sendOpenAiBindError(ctx.res, bound.message);
    const body = bound.body;
    const name = str(body['model']);
    if (!this.openAiModelFor(ctx, name, false)) return;

    const b = this.snapshot();
    const gen = planGeneration(b, countWords(str(body['prompt'])), body['max_tokens']);
    const id = `cmpl-${randomInt(999)}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = openAiUsage(gen);

    if (body['stream'] !== true) {
      const outcome = await this.awaitGeneration(ctx, b, gen.pieces.length);
      if (outcome === 'gone') return;
      if (outcome === 'error') return sendOpenAiError(ctx.res, 500, b.midStreamError ?? '');
      this.recordUsage(ctx, gen);
      return sendOpenAiJson(ctx.res, {
        id,
        object: 'text_completion',
        created,
        model: name,
        system_fingerprint: 'fp_ollama',
        choices: [{ text: gen.pieces.join(''), index: 0, finish_reason: gen.doneReason }],
        usage,
      });
    }

    // Completion chunks put `choices` before `model`; with include_usage every chunk carries zero usage.
    const includeUsage = (body['stream_options'] as Json | undefined)?.['include_usage'] === true;
    const zeroUsage = includeUsage ? { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } } : {};
    const frame = (value: unknown): string => `data: ${goJson(value)}\n\n`;
    const chunk = (choices: Json[], extra: Json = zeroUsage): Json => ({
      id,
      object: 'text_completion',
      created,
      choices,
      model: name,
      system_fingerprint: 'fp_ollama',
      ...extra,
    });
    await this.runStream(
      ctx,
      {
        contentType: SSE,
        content: gen.pieces.map((text) => () => frame(chunk([{ text, index: 0, finish_reason: null }]))),
        tail: () =>
          frame(chunk([{ text: '', index: 0, finish_reason: gen.doneReason }])) + (includeUsage ? frame(chunk([], { usage })) : '') + 'data: [DONE]\n\n',
        errorLine: (message) => frame(openAiError(500, message)),
        onComplete: () => {
          if (includeUsage) this.recordUsage(ctx, gen);
        },
      },
      b,
    );
  }

  private openAiEmbeddings(ctx: RequestContext): void {
    const bound = bindJson(ctx.record.body, OPENAI_EMBED_REQUEST);
    if (!bound.ok) return sendOpenAiBindError(ctx.res, bound.message);
    const body = bound.body;
    const format = str(body['encoding_format']);
    if (format !== '' && !['float', 'base64'].includes(format.toLowerCase())) {
      const message = `Invalid value for 'encoding_format' = ${format}. Supported values: ['float', 'base64'].`;
      return sendOpenAiBindError(ctx.res, message);
    }
    const input = body['input'] === '' ? [''] : body['input'];
    if (input === undefined || input === null || (Array.isArray(input) && input.length === 0)) {
      return sendOpenAiBindError(ctx.res, 'invalid input');
    }
    const inputs = typeof input === 'string' ? [input] : input;
    if (!Array.isArray(inputs) || !inputs.every((v) => typeof v === 'string')) {
      return sendOpenAiError(ctx.res, 400, 'invalid input type');
    }
    const name = str(body['model']);
    if (!this.openAiModelFor(ctx, name, false)) return;

    const dims = typeof body['dimensions'] === 'number' && body['dimensions'] > 0 ? Math.floor(body['dimensions']) : 8;
    const promptTokens = inputs.reduce((sum: number, text: string) => sum + Math.max(1, countWords(text)), 0);
    this.recordUsage(ctx, { promptTokens, completionTokens: 0 });
    const encode = (vector: number[]): number[] | string =>
      format.toLowerCase() === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    sendOpenAiJson(ctx.res, {
      object: 'list',
      data: inputs.map((text: string, index: number) => ({
        object: 'embedding',
        embedding: encode(embedVector(text, dims)),
        index,
      })),
      model: name,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  }

  private openAiModels({ res }: RequestContext): void {
    const models = this.models.list();
    // `var data []Model` is never appended to when nothing is installed, so it encodes as null
    const entry = (m: FakeModel): Json => ({ id: m.name, object: 'model', created: MODIFIED_AT_UNIX, owned_by: ownerOf(m.name) });
    const data = models.length === 0 ? null : models.map(entry);
    sendOpenAiJson(res, { object: 'list', data });
  }

  private openAiModel({ res, params }: RequestContext): void {
    const name = params['model'] ?? '';
    const model = this.models.find(name);
    if (!model) return sendOpenAiError(res, 404, `model '${normalizeModelName(name)}' not found`);
    sendOpenAiJson(res, { id: name, object: 'model', created: MODIFIED_AT_UNIX, owned_by: ownerOf(model.name) });
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers of the request lifecycle
// ---------------------------------------------------------------------------------------------

function newRecord(id: number, req: IncomingMessage): RecordedRequest {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  return {
    id,
    method: req.method ?? 'GET',
    url,
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1)),
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: Buffer.alloc(0),
    bodyLength: 0,
    bodySha256: sha256Hex(''),
    receivedAt: Date.now(),
    clientAborted: false,
    finished: false,
  };
}

/** Reads (or only hashes) the body; resolves false when the client vanished before its end. */
function readBody(req: IncomingMessage, record: RecordedRequest, keepBody: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      record.body = Buffer.concat(chunks);
      record.bodySha256 = hash.digest('hex');
      if (keepBody && record.bodyLength > 0) record.json = tryParseJson(record.body);
      resolve(complete);
    };
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      record.bodyLength += chunk.length;
      if (keepBody) chunks.push(chunk);
    });
    req.on('end', () => settle(true));
    req.on('close', () => settle(req.complete));
  });
}

function tryParseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** net/http/pprof lives on DefaultServeMux next to gin: no CORS or Host check (§1). */
function servePprof(res: ServerResponse, path: string, query: string): void {
  if (path === '/debug/pprof') return sendRedirect(res, 301, `/debug/pprof/${query}`);
  const profile = path.slice('/debug/pprof/'.length);
  if (profile === '') {
    return send(res, 200, '<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/\n</body>\n</html>\n', {
      'Content-Type': 'text/html; charset=utf-8',
    });
  }
  send(res, 200, `fake pprof profile: ${profile}\n`, { 'Content-Type': 'text/plain; charset=utf-8' });
}
