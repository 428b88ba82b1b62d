import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { InvalidArgumentError, type RgbImage, SeededRandom } from '@emofeedback/core';
import { decode } from 'fast-png';
import type { EvaluationFailureKind } from '../evaluator.js';

/**
 * Faults the loopback server can inject into a request:
 * - `delay`: holds the answer for `delayMs` (past the client's timeout), then answers normally.
 * - `rate-limit`: HTTP 429 with `Retry-After`.
 * - `server-error` / `unavailable`: HTTP 500 / 503.
 * - `truncated-json`: a proper completion whose content is JSON cut in half.
 * - `schema`: JSON with the wrong fields and types.
 * - `refusal`: an OpenAI-style refusal (`message.refusal`, no content).
 * - `out-of-range`: valence above and arousal below the scale.
 * - `reset`: the connection is destroyed without an answer.
 * - `malformed-body`: HTTP 200 whose body is not JSON.
 * - `unauthorized`: HTTP 401.
 */
export type LoopbackFault =
  | 'delay'
  | 'rate-limit'
  | 'server-error'
  | 'unavailable'
  | 'truncated-json'
  | 'schema'
  | 'refusal'
  | 'out-of-range'
  | 'reset'
  | 'malformed-body'
  | 'unauthorized';

/** Every {@link LoopbackFault}. */
export const LOOPBACK_FAULTS: readonly LoopbackFault[] = [
  'delay',
  'rate-limit',
  'server-error',
  'unavailable',
  'truncated-json',
  'schema',
  'refusal',
  'out-of-range',
  'reset',
  'malformed-body',
  'unauthorized',
];

/** The failure kind a client should report for each injected fault. */
export const LOOPBACK_FAULT_FAILURE: Readonly<Record<LoopbackFault, EvaluationFailureKind>> = Object.freeze({
  delay: 'timeout',
  'rate-limit': 'rate_limited',
  'server-error': 'server_error',
  unavailable: 'server_error',
  'truncated-json': 'invalid_json',
  schema: 'schema',
  refusal: 'refusal',
  'out-of-range': 'out_of_range',
  reset: 'network',
  'malformed-body': 'invalid_json',
  unauthorized: 'other',
});

/** An image decoded from a request: 8-bit RGBA. */
export interface LoopbackImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** A chat-completions request as the server read it. */
export interface LoopbackRequest {
  /** Arrival number, from 0. */
  readonly index: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly model: string;
  /** Every text part of every message (system included), in order. */
  readonly texts: readonly string[];
  /** Every `data:image/png;base64,…` image part, decoded. */
  readonly images: readonly LoopbackImage[];
  /** The `response_format` field, if any. */
  readonly responseFormat?: {
    readonly type: string;
    readonly json_schema?: { readonly name?: string; readonly schema?: unknown; readonly strict?: boolean };
  };
}

/**
 * A custom answer: assistant `content` text, a `json` value (serialised as the content), a
 * `refusal`, or a raw HTTP `status` with an optional JSON body and headers.
 */
export type LoopbackReply =
  | { readonly content: string }
  | { readonly json: unknown }
  | { readonly refusal: string }
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };

/**
 * Answers requests the default rule does not cover (prompt critics, other schemas). Return
 * `undefined` to fall back to the default evaluation rule.
 */
export type LoopbackReplyFunction = (
  request: LoopbackRequest,
) => LoopbackReply | undefined | Promise<LoopbackReply | undefined>;

/**
 * Which requests get a fault: a seeded random plan (`rate` of requests, kinds drawn uniformly
 * or by weight, in arrival order), a script (`script[i]` for the i-th request, clean after the
 * end), or a function of the request.
 */
export type LoopbackFaultPlan =
  | {
      readonly rate: number;
      readonly seed?: number;
      readonly kinds?: readonly LoopbackFault[] | Readonly<Partial<Record<LoopbackFault, number>>>;
    }
  | readonly (LoopbackFault | null | undefined)[]
  | ((request: LoopbackRequest) => LoopbackFault | null | undefined);

/** Options of {@link startLoopbackLvlmServer}. */
export interface LoopbackServerOptions {
  /** Fault injection; none by default. */
  readonly faults?: LoopbackFaultPlan;
  /** How long a `delay` fault holds the answer, in ms. Default 10,000. */
  readonly delayMs?: number;
  /** Extra latency of every answer, in ms: fixed or a `[min, max]` range (seeded). Default 0. */
  readonly latencyMs?: number | readonly [number, number];
  /** `Retry-After` header of 429 answers (seconds); `null` sends none. Default `'1'`. */
  readonly retryAfter?: string | null;
  /** Error bodies repeat the request headers (to test that clients scrub credentials). */
  readonly echoHeaders?: boolean;
  /** Custom answers for requests that are not image ratings. */
  readonly reply?: LoopbackReplyFunction;
  /**
   * The answer scale of the default rule when the request's JSON schema gives no
   * `minimum`/`maximum` for `valence`. Default [1, 9].
   */
  readonly range?: readonly [number, number];
  /** When set, requests without `Authorization: Bearer <apiKey>` get HTTP 401. */
  readonly apiKey?: string;
  /** Keep request bodies in {@link LoopbackServer.requests}. Default true. */
  readonly recordBodies?: boolean;
  /**
   * Let the process exit while the server is idle (Node's `server.unref()`), so a test run that
   * forgets `close()` still ends. Default true.
   */
  readonly unref?: boolean;
}

/** One request as recorded by the server. */
export interface LoopbackRecord {
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
  /** The fault injected, if any. */
  readonly fault?: LoopbackFault;
  /** The HTTP status sent, if an answer was sent. */
  readonly status?: number;
  /** `replied`: the answer went out; `client-closed`: the client left first; `reset`: the server cut it. */
  readonly outcome: 'pending' | 'replied' | 'client-closed' | 'reset';
  readonly durationMs?: number;
}

/** Counters of a {@link LoopbackServer}. */
export interface LoopbackStats {
  /** Requests received (any path). */
  readonly requests: number;
  readonly inFlight: number;
  /** Most requests open at once. */
  readonly maxInFlight: number;
  /** Faults injected, by kind. */
  readonly injected: Readonly<Record<LoopbackFault, number>>;
  /** Sum of `injected`. */
  readonly injectedTotal: number;
  /** Requests answered without a fault (custom replies included). */
  readonly clean: number;
  /** Clean requests the client abandoned before the answer went out (e.g. its timeout fired). */
  readonly cleanClosedByClient: number;
  /** Requests refused because the API key did not match. */
  readonly authRejected: number;
}

/** A running loopback LVLM server. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1`: the `baseURL` for OpenAI-compatible clients. */
  readonly baseURL: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly LoopbackRecord[];
  stats(): LoopbackStats;
  /** Clears records and counters and restarts the fault plan. */
  reset(): void;
  /** Stops accepting, cuts open connections and resolves when the server is closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * The default scoring rule of the loopback server, on 8-bit RGB(A) pixels:
 * - valence = `min + brightness · (max - min)`, brightness = mean of `(r + g + b) / 765`;
 * - arousal = `min + saturation · (max - min)`, saturation = mean HSV saturation
 *   `(maxc - minc) / maxc` (0 for black).
 * Values are rounded to 4 decimals. A black image is (min, min); pure red is (min + 1/3 · span, max).
 */
export function loopbackScore(
  image: LoopbackImage,
  range: readonly [number, number] = [1, 9],
): { valence: number; arousal: number } {
  const { width, height, rgba } = image;
  const n = width * height;
  let bright = 0;
  let sat = 0;
  for (let p = 0; p < n; p++) {
    const r = rgba[p * 4] as number;
    const g = rgba[p * 4 + 1] as number;
    const b = rgba[p * 4 + 2] as number;
    bright += (r + g + b) / 765;
    const hi = Math.max(r, g, b);
    const lo = Math.min(r, g, b);
    sat += hi === 0 ? 0 : (hi - lo) / hi;
  }
  const [min, max] = range;
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  return {
    valence: round(min + (bright / n) * (max - min)),
    arousal: round(min + (sat / n) * (max - min)),
  };
}

/**
 * The score the loopback server gives an {@link RgbImage} (after 8-bit quantisation, as a PNG
 * carries it), on `range`. Tests compare evaluator output against it.
 */
export function expectedLoopbackScore(
  image: RgbImage,
  range: readonly [number, number] = [1, 9],
): { valence: number; arousal: number } {
  const rgba = new Uint8Array(image.width * image.height * 4);
  const toByte = (v: number) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));
  for (let p = 0; p < image.width * image.height; p++) {
    rgba[p * 4] = toByte(image.data[p * 3] as number);
    rgba[p * 4 + 1] = toByte(image.data[p * 3 + 1] as number);
    rgba[p * 4 + 2] = toByte(image.data[p * 3 + 2] as number);
    rgba[p * 4 + 3] = 255;
  }
  return loopbackScore({ width: image.width, height: image.height, rgba }, range);
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function decodePngDataUrl(url: string): LoopbackImage {
  const match = /^data:image\/png;base64,([A-Za-z0-9+/=\s]+)$/.exec(url);
  if (!match) throw new HttpProblem(400, 'image_url must be a data:image/png;base64 URL.');
  let png: ReturnType<typeof decode>;
  try {
    png = decode(Buffer.from(match[1] as string, 'base64'));
  } catch (error) {
    throw new HttpProblem(400, `image_url is not a readable PNG (${(error as Error).message}).`);
  }
  const { width, height, channels, depth } = png;
  const src = png.data;
  const palette = png.palette;
  const rgba = new Uint8Array(width * height * 4);
  const scale = depth === 16 ? 1 / 257 : 1;
  for (let p = 0; p < width * height; p++) {
    let r: number;
    let g: number;
    let b: number;
    if (palette) {
      const entry = palette[src[p] as number] ?? [0, 0, 0];
      [r, g, b] = [entry[0] ?? 0, entry[1] ?? 0, entry[2] ?? 0];
    } else if (channels >= 3) {
      r = (src[p * channels] as number) * scale;
      g = (src[p * channels + 1] as number) * scale;
      b = (src[p * channels + 2] as number) * scale;
    } else {
      r = g = b = (src[p * channels] as number) * scale;
    }
    rgba[p * 4] = Math.round(r);
    rgba[p * 4 + 1] = Math.round(g);
    rgba[p * 4 + 2] = Math.round(b);
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

function readBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpProblem(413, 'request body too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) reject(new HttpProblem(499, 'the client closed the request before sending it all.'));
    });
  });
}

function parseChatRequest(
  index: number,
  headers: LoopbackRequest['headers'],
  body: Record<string, unknown>,
): LoopbackRequest {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new HttpProblem(400, "'messages' must be a non-empty array.");
  }
  const texts: string[] = [];
  const images: LoopbackImage[] = [];
  for (const message of messages as { content?: unknown }[]) {
    const content = message?.content;
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: unknown; image_url?: { url?: unknown } }[]) {
        if (part?.type === 'text' && typeof part.text === 'string') texts.push(part.text);
        else if (part?.type === 'image_url') {
          const url = part.image_url?.url;
          if (typeof url !== 'string') throw new HttpProblem(400, 'image_url.url must be a string.');
          images.push(decodePngDataUrl(url));
        }
      }
    }
  }
  const rf = body.response_format as LoopbackRequest['responseFormat'] | undefined;
  return {
    index,
    headers,
    body,
    model: typeof body.model === 'string' ? body.model : 'loopback-lvlm',
    texts,
    images,
    ...(rf && typeof rf === 'object' && typeof rf.type === 'string' ? { responseFormat: rf } : {}),
  };
}

function schemaRange(request: LoopbackRequest): [number, number] | undefined {
  const schema = request.responseFormat?.json_schema?.schema as
    | { properties?: { valence?: { minimum?: unknown; maximum?: unknown } } }
    | undefined;
  const v = schema?.properties?.valence;
  if (typeof v?.minimum === 'number' && typeof v?.maximum === 'number') return [v.minimum, v.maximum];
  return undefined;
}

function pickWeighted(rng: SeededRandom, weights: readonly [LoopbackFault, number][]): LoopbackFault {
  const total = weights.reduce((a, [, w]) => a + w, 0);
  let x = rng.uniform() * total;
  for (const [kind, w] of weights) {
    x -= w;
    if (x < 0) return kind;
  }
  return (weights[weights.length - 1] as [LoopbackFault, number])[0];
}

function zeroFaults(): Record<LoopbackFault, number> {
  return Object.fromEntries(LOOPBACK_FAULTS.map((k) => [k, 0])) as Record<LoopbackFault, number>;
}

/**
 * Starts a real HTTP server on 127.0.0.1 (ephemeral port) that speaks the OpenAI
 * chat-completions protocol (`POST /v1/chat/completions`, non-streaming) as a stand-in for a
 * vision-language model. Each request's first PNG image is scored by {@link loopbackScore} on the
 * scale of the request's JSON schema (`valence.minimum/maximum`), or by the custom `reply`
 * function. Honours `response_format` (`json_schema` / `json_object`: bare JSON; none: prose
 * with a fenced JSON block). Injects faults per {@link LoopbackFaultPlan}, records every request
 * and counts in-flight requests. Bound to loopback only; `close()` cuts every connection.
 *
 * @throws InvalidArgumentError on bad options.
 */
export async function startLoopbackLvlmServer(options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  const delayMs = options.delayMs ?? 10_000;
  const retryAfter = options.retryAfter === undefined ? '1' : options.retryAfter;
  const recordBodies = options.recordBodies ?? true;
  const plan = options.faults;
  if (plan && !Array.isArray(plan) && typeof plan === 'object' && 'rate' in plan) {
    if (!(plan.rate >= 0 && plan.rate <= 1)) {
      throw new InvalidArgumentError('faults.rate', `expected a number in [0, 1], got ${String(plan.rate)}.`);
    }
  }
  const weights: [LoopbackFault, number][] = (() => {
    if (!plan || Array.isArray(plan) || typeof plan === 'function' || !('rate' in plan)) return [];
    const kinds = plan.kinds ?? LOOPBACK_FAULTS.filter((k) => k !== 'unauthorized');
    const list: [LoopbackFault, number][] = Array.isArray(kinds)
      ? (kinds as LoopbackFault[]).map((k) => [k, 1])
      : (Object.entries(kinds) as [LoopbackFault, number][]).filter(([, w]) => w > 0);
    for (const [k] of list) {
      if (!LOOPBACK_FAULTS.includes(k))
        throw new InvalidArgumentError('faults.kinds', `unknown fault '${k}'.`);
    }
    if (list.length === 0) throw new InvalidArgumentError('faults.kinds', 'no fault kinds to draw from.');
    return list;
  })();
  const seed =
    plan && !Array.isArray(plan) && typeof plan === 'object' && 'rate' in plan ? (plan.seed ?? 1) : 1;

  let rng = new SeededRandom(seed);
  let latencyRng = new SeededRandom(seed + 7919);
  let nextIndex = 0;
  let records: LoopbackRecord[] = [];
  let injected = zeroFaults();
  let clean = 0;
  let cleanClosedByClient = 0;
  let authRejected = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const chooseFault = (request: LoopbackRequest): LoopbackFault | undefined => {
    if (!plan) return undefined;
    if (Array.isArray(plan))
      return (plan as (LoopbackFault | null | undefined)[])[request.index] ?? undefined;
    if (typeof plan === 'function') return plan(request) ?? undefined;
    const r = plan as { rate: number };
    // Two draws per request whatever the outcome, so the plan depends only on arrival order.
    const hit = rng.uniform() < r.rate;
    const kind = pickWeighted(rng, weights);
    return hit ? kind : undefined;
  };

  const wait = (ms: number, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve(!res.destroyed);
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.off('close', onClose);
        resolve(!res.destroyed);
      }, ms);
      timers.add(timer);
      if (options.unref ?? true) timer.unref();
      const onClose = () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      res.once('close', onClose);
    });

  const latency = (): number => {
    const l = options.latencyMs ?? 0;
    if (typeof l === 'number') return l;
    return l[0] + latencyRng.uniform() * (l[1] - l[0]);
  };

  const sendJson = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const errorBody = (message: string, type: string, headers: LoopbackRequest['headers']) => {
    const echoed = options.echoHeaders ? ` Request headers: ${JSON.stringify(headers)}` : '';
    return {
      error: {
        message: `${message}${echoed}`,
        type,
        code: null,
        ...(options.echoHeaders ? { request_headers: headers } : {}),
      },
    };
  };

  const completion = (request: LoopbackRequest, message: Record<string, unknown>) => ({
    id: `chatcmpl-loopback-${request.index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [
      { index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop', logprobs: null },
    ],
    usage: { prompt_tokens: 64, completion_tokens: 24, total_tokens: 88 },
  });

  const rangeFor = (request: LoopbackRequest): [number, number] =>
    schemaRange(request) ?? [...(options.range ?? [1, 9])];

  const ratingContent = (request: LoopbackRequest, value: unknown): string => {
    const json = JSON.stringify(value);
    return request.responseFormat ? json : `Here is my rating of the image.\n\`\`\`json\n${json}\n\`\`\``;
  };

  const defaultRating = (request: LoopbackRequest) => {
    const image = request.images[0];
    if (!image) throw new HttpProblem(400, 'no image in the request and no custom reply for it.');
    const range = rangeFor(request);
    const { valence, arousal } = loopbackScore(image, range);
    return {
      valence,
      arousal,
      rationale: `Brightness sets valence; saturation sets arousal (${range[0]}-${range[1]}).`,
    };
  };

  async function answerClean(request: LoopbackRequest, res: ServerResponse): Promise<number | undefined> {
    const custom = options.reply ? await options.reply(request) : undefined;
    if (!(await wait(latency(), res))) return undefined;
    if (custom) {
      if ('status' in custom) {
        sendJson(res, custom.status, custom.body ?? {}, { ...(custom.headers ?? {}) });
        return custom.status;
      }
      const message =
        'refusal' in custom
          ? { content: null, refusal: custom.refusal }
          : { content: 'json' in custom ? JSON.stringify(custom.json) : custom.content };
      sendJson(res, 200, completion(request, message));
      return 200;
    }
    sendJson(res, 200, completion(request, { content: ratingContent(request, defaultRating(request)) }));
    return 200;
  }

  async function answerFault(
    fault: LoopbackFault,
    request: LoopbackRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<number | undefined> {
    const range = rangeFor(request);
    switch (fault) {
      case 'delay':
        if (!(await wait(delayMs, res))) return undefined;
        return answerClean(request, res);
      case 'rate-limit':
        sendJson(
          res,
          429,
          errorBody('Rate limit reached, slow down.', 'rate_limit_error', request.headers),
          retryAfter !== null ? { 'retry-after': retryAfter } : {},
        );
        return 429;
      case 'server-error':
        sendJson(res, 500, errorBody('The server had an error.', 'server_error', request.headers));
        return 500;
      case 'unavailable':
        sendJson(res, 503, errorBody('The model is overloaded.', 'server_error', request.headers));
        return 503;
      case 'unauthorized':
        sendJson(
          res,
          401,
          errorBody('Incorrect API key provided.', 'invalid_request_error', request.headers),
        );
        return 401;
      case 'truncated-json': {
        const full = JSON.stringify(defaultRatingOrStub(request));
        sendJson(res, 200, completion(request, { content: full.slice(0, Math.floor(full.length / 2)) }));
        return 200;
      }
      case 'schema':
        sendJson(
          res,
          200,
          completion(request, { content: JSON.stringify({ valence: 'very pleasant', mood: 'calm' }) }),
        );
        return 200;
      case 'refusal':
        sendJson(
          res,
          200,
          completion(request, {
            content: null,
            refusal: "I'm sorry, but I can't help with rating this image.",
          }),
        );
        return 200;
      case 'out-of-range':
        sendJson(
          res,
          200,
          completion(request, {
            content: JSON.stringify({
              valence: range[1] + 3,
              arousal: range[0] - 2,
              rationale: 'Off the scale.',
            }),
          }),
        );
        return 200;
      case 'reset':
        req.socket.destroy();
        return undefined;
      case 'malformed-body': {
        const text = '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"message":';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return 200;
      }
    }
  }

  function defaultRatingOrStub(request: LoopbackRequest) {
    return request.images[0]
      ? defaultRating(request)
      : { analysis: 'A stub reply.', refined_prompt: 'A stub.' };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const index = nextIndex++;
    const started = performance.now();
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    const path = (req.url ?? '/').split('?')[0] as string;
    const headers = { ...req.headers };
    const record: { -readonly [K in keyof LoopbackRecord]: LoopbackRecord[K] } = {
      index,
      method: req.method ?? 'GET',
      path,
      headers,
      outcome: 'pending',
    };
    records.push(record);
    let isClean = false;
    res.once('close', () => {
      inFlight--;
      record.durationMs = performance.now() - started;
      if (record.outcome === 'pending') {
        record.outcome = res.writableFinished ? 'replied' : 'client-closed';
        if (record.outcome === 'client-closed' && isClean) cleanClosedByClient++;
      }
    });
    try {
      if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
        sendJson(res, 200, {
          object: 'list',
          data: [{ id: 'loopback-lvlm', object: 'model', owned_by: 'loopback' }],
        });
        record.status = 200;
        return;
      }
      if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
        throw new HttpProblem(404, `no route for ${req.method} ${path}.`);
      }
      const text = await readBody(req);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new HttpProblem(400, 'the request body is not JSON.');
      }
      if (recordBodies) record.body = body;
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        authRejected++;
        sendJson(res, 401, errorBody('Incorrect API key provided.', 'invalid_request_error', headers));
        record.status = 401;
        return;
      }
      if (body.stream === true)
        throw new HttpProblem(400, 'this server does not stream; send stream: false.');
      const request = parseChatRequest(index, headers, body);
      const fault = chooseFault(request);
      if (fault) {
        record.fault = fault;
        injected[fault]++;
        const status = await answerFault(fault, request, req, res);
        if (status !== undefined) record.status = status;
        if (fault === 'reset') record.outcome = 'reset';
      } else {
        clean++;
        isClean = true;
        const status = await answerClean(request, res);
        if (status !== undefined) record.status = status;
      }
    } catch (error) {
      const status = error instanceof HttpProblem ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      sendJson(
        res,
        status,
        errorBody(message, status === 500 ? 'server_error' : 'invalid_request_error', headers),
      );
      record.status = status;
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  // Clients close idle connections first (undici keeps them 4 s), so no request races a server-side close.
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (options.unref ?? true) server.unref();
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    baseURL: `${url}/v1`,
    port,
    get requests() {
      return records;
    },
    stats(): LoopbackStats {
      const injectedTotal = Object.values(injected).reduce((a, b) => a + b, 0);
      return {
        requests: records.length,
        inFlight,
        maxInFlight,
        injected: { ...injected },
        injectedTotal,
        clean,
        cleanClosedByClient,
        authRejected,
      };
    },
    reset() {
      rng = new SeededRandom(seed);
      latencyRng = new SeededRandom(seed + 7919);
      nextIndex = 0;
      records = [];
      injected = zeroFaults();
      clean = 0;
      cleanClosedByClient = 0;
      authRejected = 0;
      maxInFlight = inFlight;
    },
    close() {
      if (closing) return closing;
      closing = new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
