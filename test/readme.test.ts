import { existsSync, readFileSync } from 'fs';
import { fencedBlocks, pythonPairs, README, readTablet, TABLET } from './readme/snippets';

// The README's TypeScript blocks are compiled in strict mode by `jsii-rosetta extract --strict`
// in post-compile (a block that does not compile fails the build there); this checks what that
// leaves for a test: every block made it into the tablet, and the Python is their translation.

const markdown = readFileSync(README, 'utf-8');

describe('README code blocks', () => {
  if (!existsSync(TABLET)) throw new Error(`${TABLET} is missing: run \`npx projen compile\` (post-compile runs jsii-rosetta)`);
  const tablet = readTablet();

  test('every TypeScript block compiled (it is in the tablet with didCompile)', () => {
    const typescript = fencedBlocks(markdown).filter(b => b.language === 'ts' || b.language === 'typescript');
    expect(typescript.length).toBeGreaterThan(0);
    for (const block of typescript) expect(tablet.get(block.source.trim())?.didCompile).toBe(true);
  });

  test('no TypeScript under another fence name rosetta would skip', () => {
    expect(fencedBlocks(markdown).map(b => b.language).filter(l => /^(js|javascript|tsx)$/.test(l))).toEqual([]);
  });

  test('every Python block is rosetta\'s translation of the TypeScript block before it (npx projen readme:python rewrites them)', () => {
    const pairs = pythonPairs(markdown, tablet);
    expect(pairs.length).toBeGreaterThan(0);
    for (const { python, translation } of pairs) expect(python.source.trim()).toBe(translation);
  });
});
