/**
 * A loopback HTTP server that speaks the OpenAI images API (`POST /v1/images/generations`
 * → `{ data: [{ b64_json }] }`), for testing image-model adapters without a network.
 *
 * Each generated PNG is a flat colour computed from the prompt ({@link promptColour}), so a
 * test can check which prompt arrived. Faults are queued with {@link ImageServer.enqueue}.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';

/** One scripted response, used once, in order, before normal behaviour resumes. */
export type Fault =
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | { readonly delayMs: number }
  | { readonly malformed: true }
  | { readonly noImage: true }
  | { readonly jpeg: true };

/** What the server saw of one request. */
export interface RecordedRequest {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

export interface ImageServer {
  /** Base URL for OpenAI-style clients, ending in `/v1`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queues faults for the next requests. */
  enqueue(...faults: Fault[]): void;
  close(): Promise<void>;
}

/** The flat colour (0..255 RGB) the server paints for a prompt: an FNV-1a hash of its text. */
export function promptColour(prompt: string): [number, number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) {
    h ^= prompt.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
}

function image(prompt: string, format: 'png' | 'jpeg', side = 48): Buffer {
  const [r, g, b] = promptColour(prompt);
  const rgba = new Uint8Array(side * side * 4);
  for (let p = 0; p < side * side; p++) rgba.set([r, g, b, 255], p * 4);
  if (format === 'jpeg') return Buffer.from(jpeg.encode({ data: rgba, width: side, height: side }, 95).data);
  return Buffer.from(encodePng({ width: side, height: side, data: rgba, channels: 4 }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

/** Starts the server on 127.0.0.1 with an ephemeral port. */
export async function startImageServer(): Promise<ImageServer> {
  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    if (req.method !== 'POST' || req.url !== '/v1/images/generations') {
      json(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json(res, 400, { error: { message: 'invalid JSON' } });
      return;
    }
    requests.push({ path: req.url, authorization: req.headers.authorization, body });
    const fault = faults.shift();
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (res.destroyed || req.socket.destroyed) return;
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(
        fault.body ??
          JSON.stringify({ error: { message: `scripted ${fault.status}`, type: 'server_error' } }),
      );
      return;
    }
    if (fault && 'malformed' in fault) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data": [ {"b64_json": ');
      return;
    }
    if (fault && 'noImage' in fault) {
      json(res, 200, { created: 1, data: [] });
      return;
    }
    const format = fault && 'jpeg' in fault ? 'jpeg' : 'png';
    const n = typeof body.n === 'number' ? body.n : 1;
    const prompt = String(body.prompt ?? '');
    json(res, 200, {
      created: Math.floor(Date.now() / 1000),
      data: Array.from({ length: n }, () => ({ b64_json: image(prompt, format).toString('base64') })),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...f) => {
      faults.push(...f);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
