/**
 * Rewrites each Python block of README.md with rosetta's translation of the TypeScript block
 * before it (`npx projen readme:python`, after `npx projen compile` wrote .jsii.tabl.json).
 */
import { readFileSync, writeFileSync } from 'fs';
import { pythonPairs, README, readTablet } from './snippets';

let markdown = readFileSync(README, 'utf-8');
const pairs = pythonPairs(markdown, readTablet());
for (const { python, translation } of [...pairs].reverse()) {
  if (translation === undefined) throw new Error('README: a TypeScript block has no translation: run `npx projen compile` first');
  markdown = markdown.slice(0, python.start) + translation + markdown.slice(python.end);
}
writeFileSync(README, markdown);
console.log(`README.md: ${pairs.length} Python block(s) written from the TypeScript ones`);
