/**
 * A minimal streaming upstream for the line-delay measurements.
 *
 * The fake Ollama stamps its lines with `created_at`, a wall-clock time whose origin is Date.now()
 * (whole milliseconds) in its own process, so two processes can disagree by up to a millisecond:
 * too coarse for a sub-millisecond delay. This server writes Ollama-shaped NDJSON chat lines that
 * also carry `"sent_ns"`, process.hrtime.bigint() taken just before the write. That clock is
 * CLOCK_MONOTONIC, the same in every process on the machine, so the client can subtract it from its
 * own reading.
 *
 * The request body's `"bench": {"lines", "intervalMs"}` sets the stream's length and pace.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StreamUpstream {
  url: string;
  close(): Promise<void>;
}

const MODEL = 'llama3.2:latest';
const WORDS = ['The', ' sky', ' is', ' blue', ' because', ' of', ' Rayleigh', ' scattering.'];

export async function startStreamUpstream(): Promise<StreamUpstream> {
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => route(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 0; // like Go's net/http in Ollama: idle connections stay open
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function route(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  if (req.url === '/api/version') return sendJson(res, 200, { version: '0.12.6' }); // the gate's health probe
  // The probe's model lists: a gate with several backends sends a request to one that has its model.
  if (req.url === '/api/tags') return sendJson(res, 200, { models: [{ name: MODEL, model: MODEL, size: 2019393189 }] });
  if (req.url === '/api/ps') return sendJson(res, 200, { models: [{ name: MODEL, model: MODEL, size: 2019393189, size_vram: 2019393189 }] });
  if (req.method === 'POST' && req.url === '/api/chat') return streamChat(res, body);
  sendJson(res, 404, { error: 'not found' });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const bytes = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
  res.end(bytes);
}

function streamChat(res: http.ServerResponse, body: Buffer): void {
  let lines = 10;
  let intervalMs = 20;
  try {
    const bench = (JSON.parse(body.toString('utf8')) as { bench?: { lines?: number; intervalMs?: number } }).bench;
    lines = Math.max(1, Math.floor(bench?.lines ?? lines));
    intervalMs = Math.max(0, bench?.intervalMs ?? intervalMs);
  } catch {
    return sendJson(res, 400, { error: 'invalid JSON body' });
  }

  const startedNs = process.hrtime.bigint();
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  res.on('close', () => clearTimeout(timer));
  // Like Ollama (gin), the headers leave together with the first line.
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });

  const writeLine = (): void => {
    if (res.destroyed) return;
    const last = sent === lines - 1;
    const head = last
      ? `{"model":"${MODEL}","created_at":"${new Date().toISOString()}","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop",` +
        `"total_duration":${process.hrtime.bigint() - startedNs},"load_duration":1334875,"prompt_eval_count":18,"prompt_eval_duration":22500000,` +
        `"eval_count":${lines - 1},"eval_duration":${(lines - 1) * 15_000_000},`
      : `{"model":"${MODEL}","created_at":"${new Date().toISOString()}","message":{"role":"assistant","content":"${WORDS[sent % WORDS.length]}"},"done":false,`;
    // The stamp is taken last, right before the bytes go to the socket.
    const line = `${head}"sent_ns":"${process.hrtime.bigint()}"}\n`;
    sent++;
    if (last) return void res.end(line);
    res.write(line);
    timer = setTimeout(writeLine, intervalMs);
  };
  writeLine();
}
