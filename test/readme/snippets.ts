/**
 * The README's code blocks and their jsii-rosetta translations. `jsii-rosetta extract --strict`
 * (post-compile) compiles every TypeScript block of the README against rosetta/default.ts-fixture
 * and writes the translations into .jsii.tabl.json; each Python block of the README is the
 * translation of the TypeScript block just before it.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

export const ROOT = join(__dirname, '..', '..');
export const README = join(ROOT, 'README.md');
export const TABLET = join(ROOT, '.jsii.tabl.json');

export interface FencedBlock {
  readonly language: string;
  /** The lines between the fences, as one string without a trailing newline. */
  readonly source: string;
  /** Offsets of `source` in the markdown. */
  readonly start: number;
  readonly end: number;
}

export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  for (const match of markdown.matchAll(/^```([^\n`]*)\n([\s\S]*?)^```$/gm)) {
    const start = match.index! + 4 + match[1].length;
    const source = match[2].replace(/\n$/, '');
    blocks.push({ language: match[1].trim(), source, start, end: start + source.length });
  }
  return blocks;
}

interface TabletSnippet {
  readonly didCompile?: boolean;
  readonly translations: Record<string, { readonly source: string }>;
}

/** The tablet's snippets by their TypeScript source (`$`). */
export function readTablet(path = TABLET): Map<string, TabletSnippet> {
  const tablet = JSON.parse(readFileSync(path, 'utf-8')) as { snippets: Record<string, TabletSnippet> };
  return new Map(Object.values(tablet.snippets).map(s => [s.translations.$.source.trim(), s]));
}

export interface PythonPair {
  readonly typescript: FencedBlock;
  readonly python: FencedBlock;
  /** rosetta's translation of the TypeScript block, undefined if the tablet has none. */
  readonly translation?: string;
}

/** Each Python block of `markdown` with the TypeScript block before it and that block's translation. */
export function pythonPairs(markdown: string, tablet: Map<string, TabletSnippet>): PythonPair[] {
  const blocks = fencedBlocks(markdown);
  return blocks.flatMap((block, i) => {
    if (block.language !== 'python') return [];
    const typescript = blocks[i - 1];
    if (typescript?.language !== 'ts') throw new Error(`README: the Python block at offset ${block.start} does not follow a TypeScript block`);
    return [{ typescript, python: block, translation: tablet.get(typescript.source.trim())?.translations.python?.source.trim() }];
  });
}
