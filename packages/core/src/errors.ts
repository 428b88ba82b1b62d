/**
 * The typed error hierarchy shared by every EmoFeedback² package.
 *
 * Every error thrown on purpose by the SDK is an {@link EmoFeedbackError} with a stable
 * machine-readable `code`, so callers can branch with `err.code` instead of parsing messages.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type EmoFeedbackErrorCode =
  | 'INVALID_EMOTION'
  | 'UNKNOWN_SCALE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_IMAGE'
  | 'UNKNOWN_DEVICE'
  | 'DEVICE_UNAVAILABLE'
  | 'CHECKPOINT'
  | 'PROVIDER'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NOT_FOUND';

/** Base class of every error the SDK throws on purpose. */
export class EmoFeedbackError extends Error {
  readonly code: EmoFeedbackErrorCode;

  constructor(code: EmoFeedbackErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A valence/arousal value that is not finite or lies outside its scale. */
export class InvalidEmotionError extends EmoFeedbackError {
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, allowed: string) {
    super('INVALID_EMOTION', `Invalid ${field}: ${formatValue(value)}; allowed: ${allowed}.`);
    this.field = field;
    this.value = value;
  }
}

/** A scale name that the converters do not know. */
export class UnknownScaleError extends EmoFeedbackError {
  readonly scale: string;

  constructor(scale: string, known: readonly string[]) {
    super('UNKNOWN_SCALE', `Unknown emotion scale '${scale}'; known scales: ${known.join(', ')}.`);
    this.scale = scale;
  }
}

/** Any other argument that fails validation: wrong shape, empty batch, bad option. */
export class InvalidArgumentError extends EmoFeedbackError {
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `Invalid ${argument}: ${message}`);
    this.argument = argument;
  }
}

/** An image that cannot be used: wrong shape, non-finite pixels, unreadable file. */
export class InvalidImageError extends EmoFeedbackError {
  readonly input: string;

  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super('INVALID_IMAGE', `Invalid image ${input}: ${message}`, options);
    this.input = input;
  }
}

/** A device name that is not one of the supported devices. */
export class UnknownDeviceError extends EmoFeedbackError {
  readonly device: string;

  constructor(device: string, known: readonly string[]) {
    super('UNKNOWN_DEVICE', `Unknown device '${device}'; known devices: ${known.join(', ')}.`);
    this.device = device;
  }
}

/** A named device that exists in principle but cannot start on this machine. */
export class DeviceUnavailableError extends EmoFeedbackError {
  readonly device: string;
  readonly available: readonly string[];

  constructor(device: string, reason: string, available: readonly string[], options?: { cause?: unknown }) {
    super(
      'DEVICE_UNAVAILABLE',
      `Device '${device}' cannot start here: ${reason}. Devices available here: ${available.length > 0 ? available.join(', ') : 'none'}.`,
      options,
    );
    this.device = device;
    this.available = available;
  }
}

/** A checkpoint that cannot be saved or loaded (bad manifest, shape mismatch, truncated file). */
export class CheckpointError extends EmoFeedbackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CHECKPOINT', message, options);
  }
}

/** A remote model (LVLM, image API) that failed after retries. Never carries credentials. */
export class ProviderError extends EmoFeedbackError {
  readonly kind: string;

  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super('PROVIDER', message, options);
    this.kind = kind;
  }
}

/** Work that ran past its time limit. */
export class TimeoutError extends EmoFeedbackError {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super('TIMEOUT', `${what} timed out after ${timeoutMs} ms.`);
    this.timeoutMs = timeoutMs;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
