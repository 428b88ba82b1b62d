import { CheckpointError, type CheckpointReader } from '@emofeedback/core';
import type { CheckpointStore } from '@emofeedback/rl';

/**
 * Fetches a file over HTTP(S) as bytes (checkpoints served next to an app).
 * @throws CheckpointError for a response that is not 2xx.
 */
export async function fetchBytes(url: string | URL, init?: RequestInit): Promise<Uint8Array> {
  const response = await fetch(url, init);
  if (!response.ok) throw new CheckpointError(`Cannot fetch ${String(url)}: HTTP ${response.status}.`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Options of {@link UrlCheckpointStore}. */
export interface UrlCheckpointStoreOptions {
  /**
   * The checkpoint names, when known up front. Without them, {@link UrlCheckpointStore.list}
   * reads `index.json` under the base URL: a JSON array of names, or `{ "checkpoints": [...] }`.
   */
  readonly checkpoints?: readonly string[];
  /** Passed to every `fetch` (credentials, headers, an abort signal). */
  readonly init?: RequestInit;
}

/**
 * A read-only {@link CheckpointStore} over HTTP: file `f` of checkpoint `c` lives at
 * `<baseUrl>/<c>/<f>`. Use it to start from checkpoints shipped with an app, and copy them into an
 * `IndexedDbCheckpointStore` to keep training in the tab.
 */
export class UrlCheckpointStore implements CheckpointStore {
  /** The base URL, always ending in `/`. */
  readonly baseUrl: string;

  /**
   * @param baseUrl absolute URL, or a path resolved against the page (`location.href`).
   */
  constructor(
    baseUrl: string | URL,
    private readonly options: UrlCheckpointStoreOptions = {},
  ) {
    const base = (globalThis as { location?: { href: string } }).location?.href;
    const url = new URL(String(baseUrl), base);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.baseUrl = url.href;
  }

  /** The checkpoint names: the ones given to the constructor, else those in `index.json`. */
  async list(): Promise<string[]> {
    if (this.options.checkpoints) return [...this.options.checkpoints];
    const bytes = await fetchBytes(new URL('index.json', this.baseUrl), this.options.init);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw new CheckpointError(`${this.baseUrl}index.json is not JSON.`, { cause: error });
    }
    const names = Array.isArray(parsed) ? parsed : (parsed as { checkpoints?: unknown })?.checkpoints;
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
      throw new CheckpointError(`${this.baseUrl}index.json must list checkpoint names as strings.`);
    return names;
  }

  /**
   * Fetches one file of a checkpoint.
   * @throws CheckpointError when the server does not answer 2xx.
   */
  read(name: string, file: string): Promise<Uint8Array> {
    const url = new URL(
      `${encodeURIComponent(name)}/${file.split('/').map(encodeURIComponent).join('/')}`,
      this.baseUrl,
    );
    return fetchBytes(url, this.options.init);
  }

  /** @throws CheckpointError: the store is read-only. */
  async write(name: string): Promise<void> {
    throw new CheckpointError(`Cannot write checkpoint '${name}': ${this.baseUrl} is a read-only store.`);
  }

  /** @throws CheckpointError: the store is read-only. */
  async remove(name: string): Promise<void> {
    throw new CheckpointError(`Cannot remove checkpoint '${name}': ${this.baseUrl} is a read-only store.`);
  }
}

/**
 * Copies checkpoint `name` (the listed `files`) from one store to another in a single write,
 * e.g. from a {@link UrlCheckpointStore} into an IndexedDB store.
 */
export async function copyCheckpoint(
  from: CheckpointStore,
  to: CheckpointStore,
  name: string,
  files: readonly string[],
): Promise<void> {
  const entries = await Promise.all(files.map(async (f) => [f, await from.read(name, f)] as const));
  await to.write(name, Object.fromEntries(entries));
}

/**
 * A `CheckpointReader` (as `loadGenerator` and `loadCheckpoint` of `@emofeedback/core` take) over
 * HTTP: file `f` is fetched from `<baseUrl>/f`.
 *
 * @example
 * ```ts
 * const generator = await loadGenerator(urlReader('/models/emoflow/'));
 * ```
 */
export function urlReader(baseUrl: string | URL, init?: RequestInit): CheckpointReader {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const url = new URL(String(baseUrl), base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return (path) => fetchBytes(new URL(path, url), init);
}

/**
 * A `CheckpointReader` over one checkpoint of a {@link CheckpointStore}, e.g. a generator kept in
 * IndexedDB: `loadGenerator(storeReader(new IndexedDbCheckpointStore('models'), 'emoflow'))`.
 */
export function storeReader(store: CheckpointStore, name: string): CheckpointReader {
  return (path) => store.read(name, path);
}
