/** Turns any text into a version safe to show, log or store. */
export type SecretScrubber = (text: string) => string;

const REDACTED = '[redacted]';

// Credential-shaped text that is removed even when the secret itself is unknown.
const GENERIC_PATTERNS: readonly [RegExp, string][] = [
  // Authorization: Bearer xxx / Basic xxx (header lines, JSON-echoed headers, prose).
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${REDACTED}`],
  // Header or field names that carry credentials, in `name: value`, `"name":"value"`, `name=value` form.
  [
    /\b((?:proxy-)?authorization|x-api-key|api[-_]?key|x-goog-api-key|access[-_]?token|auth[-_]?token|client[-_]?secret|password|secret)(\\?["']?\s*[:=]\s*\\?["']?)(?!\[redacted\])[^\s"'\\,;&}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // Query-string keys.
  [/([?&](?:key|api_key|apikey|token|access_token)=)[^&\s"']+/gi, `$1${REDACTED}`],
  // Well-known key formats: OpenAI / Anthropic (sk-...), Google (AIza...), GitHub, Hugging Face, xAI, Groq.
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED],
  [/\b(?:ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{16,}/g, REDACTED],
  [/\bhf_[A-Za-z0-9]{16,}/g, REDACTED],
  [/\b(?:xai|gsk)_[A-Za-z0-9]{16,}/g, REDACTED],
  // Inline images are long and useless in a message.
  [/data:([a-z]+\/[a-z0-9.+-]+);base64,[A-Za-z0-9+/=]{16,}/gi, 'data:$1;base64,[…]'],
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Options of {@link createSecretScrubber}. */
export interface SecretScrubberOptions {
  /** Longest text kept; the rest is cut with an ellipsis. Default 600 characters. */
  readonly maxLength?: number;
}

/**
 * Makes a scrubber that removes the given secrets (and their URL-/JSON-encoded forms) plus
 * anything credential-shaped (bearer tokens, `api-key:` headers, `sk-…` keys, `?key=` query
 * parameters) from a text, then shortens it. Secrets shorter than 4 characters are ignored.
 */
export function createSecretScrubber(
  secrets: Iterable<string | undefined | null> = [],
  options: SecretScrubberOptions = {},
): SecretScrubber {
  const maxLength = options.maxLength ?? 600;
  const known = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < 4) continue;
    known.add(s);
    known.add(encodeURIComponent(s));
    known.add(JSON.stringify(s).slice(1, -1));
  }
  const exact =
    known.size > 0
      ? new RegExp(
          [...known]
            .sort((a, b) => b.length - a.length)
            .map(escapeRegExp)
            .join('|'),
          'g',
        )
      : undefined;
  return (text: string) => {
    let out = String(text);
    if (exact) out = out.replace(exact, REDACTED);
    for (const [pattern, replacement] of GENERIC_PATTERNS) out = out.replace(pattern, replacement);
    if (out.length > maxLength) out = `${out.slice(0, maxLength - 1)}…`;
    return out;
  };
}
