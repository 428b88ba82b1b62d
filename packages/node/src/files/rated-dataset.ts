import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, normalize } from 'node:path';
import {
  axisToCanonical,
  EmoFeedbackError,
  type EmoFeedbackErrorCode,
  type EmotionScale,
  type RgbImage,
} from '@emofeedback/core';
import { parse } from 'csv-parse/sync';
import { type ImageSize, readImage } from './images.js';

/** The rating scale of a dataset's `ratings.csv`; ratings are converted to canonical [-3, 3]. */
export type RatedDatasetScale = Extract<EmotionScale, 'likert7' | 'sam9' | 'canonical'>;

/** Options of {@link loadRatedDataset}. */
export interface LoadRatedDatasetOptions {
  /** The scale of the ratings in `ratings.csv`. */
  readonly scale: RatedDatasetScale;
  /** Resize every image to this size on load (see `resizeImage`). */
  readonly resize?: ImageSize;
  /**
   * Column names. Defaults: `file`; `valence_mean`, else `valence`; `arousal_mean`, else `arousal`.
   */
  readonly columns?: { readonly file?: string; readonly valence?: string; readonly arousal?: string };
  /** Ratings file name inside the folder; default `ratings.csv`. */
  readonly ratingsFile?: string;
  /**
   * Folder the image paths are relative to; default `dir`. A file is looked for as written,
   * then under `images/`, then (with `imagesDir`) by its base name.
   */
  readonly imagesDir?: string;
  /** Read only the first `limit` rows (quick checks). */
  readonly limit?: number;
}

/** One rated image; `valence` and `arousal` are canonical ([-3, 3]). */
export interface RatedImage {
  /** The file as written in the ratings file (e.g. `images/abuse.png`). */
  readonly file: string;
  readonly image: RgbImage;
  readonly valence: number;
  readonly arousal: number;
  /** Every column of the image's row, as text (theme, category, SDs...). */
  readonly row: Readonly<Record<string, string>>;
}

/** A folder of rated images. */
export interface RatedDataset {
  readonly dir: string;
  readonly scale: RatedDatasetScale;
  readonly items: RatedImage[];
}

/**
 * A rated dataset that cannot be read. `code` is `NOT_FOUND` for a missing folder, ratings file
 * or image, `INVALID_IMAGE` for an image that does not decode, and `INVALID_ARGUMENT` for a
 * malformed ratings file (missing column, non-numeric or out-of-scale rating).
 */
export class RatedDatasetError extends EmoFeedbackError {
  /** The file at fault. */
  readonly file: string;
  /** The 1-based line in the ratings file (the header is line 1), when a row is at fault. */
  readonly line: number | undefined;
  /** The column at fault, if any. */
  readonly column: string | undefined;

  constructor(
    code: EmoFeedbackErrorCode,
    file: string,
    message: string,
    where: { line?: number; column?: string; cause?: unknown } = {},
  ) {
    const at = where.line !== undefined ? `${file}, line ${where.line}` : file;
    super(code, `${at}: ${message}`, { cause: where.cause });
    this.file = file;
    this.line = where.line;
    this.column = where.column;
  }
}

/**
 * Reads a folder holding `ratings.csv` and the images it names (usually under `images/`), and
 * converts the ratings to the canonical scale.
 *
 * @example
 * const oasis = await loadRatedDataset('../shared/data/oasis-train', { scale: 'likert7' });
 * @throws RatedDatasetError naming the file (and line or column) at fault.
 */
export async function loadRatedDataset(dir: string, options: LoadRatedDatasetOptions): Promise<RatedDataset> {
  const { scale } = options;
  if (scale !== 'likert7' && scale !== 'sam9' && scale !== 'canonical')
    throw new RatedDatasetError(
      'INVALID_ARGUMENT',
      dir,
      `unknown scale '${String(scale)}'; use likert7, sam9 or canonical.`,
    );
  const ratingsPath = join(dir, options.ratingsFile ?? 'ratings.csv');
  let text: string;
  try {
    text = await readFile(ratingsPath, 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new RatedDatasetError(
      missing ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
      ratingsPath,
      missing ? 'the ratings file does not exist.' : 'cannot read the ratings file.',
      { cause },
    );
  }
  let rows: Record<string, string>[];
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<
      string,
      string
    >[];
  } catch (cause) {
    throw new RatedDatasetError(
      'INVALID_ARGUMENT',
      ratingsPath,
      `is not valid CSV (${(cause as Error).message}).`,
      {
        cause,
      },
    );
  }
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const present = new Set(
    header.split(',').map((h) =>
      h
        .trim()
        .replace(/^"|"$/g, '')
        .replace(/^\uFEFF/, ''),
    ),
  );
  const pick = (wanted: string | undefined, fallbacks: string[], role: string): string => {
    const candidates = wanted ? [wanted] : fallbacks;
    const found = candidates.find((c) => present.has(c));
    if (!found)
      throw new RatedDatasetError(
        'INVALID_ARGUMENT',
        ratingsPath,
        `missing the ${role} column (looked for ${candidates.map((c) => `'${c}'`).join(' or ')}; found ${[...present].map((c) => `'${c}'`).join(', ')}).`,
        { column: candidates[0] },
      );
    return found;
  };
  const fileCol = pick(options.columns?.file, ['file'], 'file');
  const valCol = pick(options.columns?.valence, ['valence_mean', 'valence'], 'valence');
  const aroCol = pick(options.columns?.arousal, ['arousal_mean', 'arousal'], 'arousal');
  if (rows.length === 0) throw new RatedDatasetError('INVALID_ARGUMENT', ratingsPath, 'has no rows.');

  const limit = options.limit ?? rows.length;
  const items: RatedImage[] = [];
  for (const [i, row] of rows.slice(0, limit).entries()) {
    const line = i + 2;
    const rating = (col: string, axis: string): number => {
      const raw = row[col] ?? '';
      const value = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(value))
        throw new RatedDatasetError('INVALID_ARGUMENT', ratingsPath, `${col} is '${raw}', not a number.`, {
          line,
          column: col,
        });
      try {
        return axisToCanonical(value, scale, axis);
      } catch (cause) {
        throw new RatedDatasetError(
          'INVALID_ARGUMENT',
          ratingsPath,
          `${col} = ${value} lies outside the ${scale} scale.`,
          { line, column: col, cause },
        );
      }
    };
    const valence = rating(valCol, 'valence');
    const arousal = rating(aroCol, 'arousal');
    const file = row[fileCol] ?? '';
    if (file === '')
      throw new RatedDatasetError('INVALID_ARGUMENT', ratingsPath, `${fileCol} is empty.`, {
        line,
        column: fileCol,
      });
    if (isAbsolute(file) || normalize(file).startsWith('..'))
      throw new RatedDatasetError(
        'INVALID_ARGUMENT',
        ratingsPath,
        `${fileCol} '${file}' must be a path inside ${dir}.`,
        {
          line,
          column: fileCol,
        },
      );
    const path = await locate(options.imagesDir ?? dir, file, options.imagesDir !== undefined);
    if (path === null)
      throw new RatedDatasetError(
        'NOT_FOUND',
        join(dir, file),
        `the image named on line ${line} of ${ratingsPath} does not exist.`,
        {
          line,
          column: fileCol,
        },
      );
    let image: RgbImage;
    try {
      image = await readImage(path, options.resize ? { resize: options.resize } : {});
    } catch (cause) {
      throw new RatedDatasetError(
        'INVALID_IMAGE',
        path,
        `is not a readable PNG or JPEG image (${(cause as Error).message}).`,
        {
          line,
          cause,
        },
      );
    }
    items.push({ file, image, valence, arousal, row });
  }
  return { dir, scale, items };
}

/** The file as written, else under `images/`, else by base name; `null` when none exists. */
async function locate(dir: string, file: string, byBaseName: boolean): Promise<string | null> {
  const candidates = [join(dir, file), join(dir, 'images', file)];
  if (byBaseName) candidates.push(join(dir, basename(file)));
  for (const candidate of candidates) {
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // try the next candidate
    }
  }
  return null;
}
