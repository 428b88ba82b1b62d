#!/usr/bin/env node
// Checks the Markdown documentation: README.md, docs/**, the packages' and examples' READMEs and
// CHANGELOGs. Every relative link must point at a file or folder that exists, and every `#anchor`
// into a Markdown file at one of its headings (GitHub's slugs). Fenced code is skipped.
// Usage: node scripts/check-docs.mjs
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function markdownUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : markdownUnder(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

const files = [
  join(root, 'README.md'),
  ...markdownUnder(join(root, 'docs')),
  ...markdownUnder(join(root, '.changeset')),
  ...['packages', 'examples'].flatMap((group) =>
    readdirSync(join(root, group)).flatMap((name) =>
      ['README.md', 'CHANGELOG.md'].map((f) => join(root, group, name, f)).filter((f) => existsSync(f)),
    ),
  ),
];

/** The prose of a Markdown file: fenced code blocks and inline code removed. */
function prose(text) {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors of a Markdown file. */
const anchorCache = new Map();
function anchors(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map();
    const set = new Set();
    for (const line of prose(readFileSync(file, 'utf8')).split('\n')) {
      const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!m) continue;
      const base = m[1]
        .replace(/<[^>]+>/g, '')
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      set.add(count === 0 ? base : `${base}-${count}`);
    }
    anchorCache.set(file, set);
  }
  return anchorCache.get(file);
}

const problems = [];
let links = 0;
for (const file of files) {
  const text = prose(readFileSync(file, 'utf8'));
  const where = relative(root, file);
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    links++;
    const [pathPart, anchor] = target.split('#');
    const path = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (!existsSync(path)) {
      problems.push(`${where}: link to ${target}: ${relative(root, path)} does not exist`);
      continue;
    }
    if (anchor && path.endsWith('.md') && statSync(path).isFile() && !anchors(path).has(anchor))
      problems.push(`${where}: link to ${target}: no heading with the anchor #${anchor}`);
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(`✗ ${p}`);
  process.exit(1);
}
console.log(`docs OK: ${links} relative links in ${files.length} Markdown files resolve`);
