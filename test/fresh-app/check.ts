/**
 * The fresh-app check (`npx projen test:fresh-app`, in `package` after the tarball is packed):
 * a new directory outside the repository gets the packed library (dist/js/*.tgz), aws-cdk-lib,
 * constructs, cdk-nag 2.x and @types/node in its node_modules, a strict tsconfig and app.ts;
 * tsc compiles it and node runs it, once at the newest aws-cdk-lib and once at the peer floor.
 *
 * The packages come from this repository's node_modules (installed from the lockfile; the floor
 * ones under their *-floor aliases), copied as hard links with the dependencies they do not
 * bundle, so the check needs no registry and takes seconds.
 */
import { execFileSync } from 'child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';

const ROOT = join(__dirname, '..', '..');
const REPO_MODULES = join(ROOT, 'node_modules');

interface Variant {
  readonly name: string;
  /** Package name in the fresh app -> directory under this repository's node_modules. */
  readonly packages: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { name: 'newest', packages: { 'aws-cdk-lib': 'aws-cdk-lib', 'constructs': 'constructs', 'cdk-nag': 'cdk-nag-v2' } },
  { name: 'peer floor', packages: { 'aws-cdk-lib': 'aws-cdk-lib-floor', 'constructs': 'constructs-floor', 'cdk-nag': 'cdk-nag-v2-floor' } },
];

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['es2022'],
    types: ['node'],
    strict: true,
    noImplicitReturns: true,
    noUnusedLocals: true,
    outDir: 'dist',
  },
  include: ['app.ts'],
};

function packedTarball(): string {
  const dir = join(ROOT, 'dist', 'js');
  const tarballs = existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.tgz')) : [];
  if (tarballs.length !== 1) throw new Error(`expected one packed tarball in ${dir} (run npx projen package:js), found ${tarballs.length}`);
  return join(dir, tarballs[0]);
}

/** Copies a package as hard links (a plain copy across file systems). */
function copyPackage(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    execFileSync('cp', ['-al', from, to]);
  } catch {
    cpSync(from, to, { recursive: true, dereference: true });
  }
}

/** Where Node would find `name` from the package in `packageDir`. */
function resolvePackageDir(name: string, packageDir: string): string {
  for (let dir = packageDir; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`${name} (a dependency of ${packageDir}) is not installed`);
}

/** Installs `sourceDir` as `name`, with the dependencies it does not bundle, into `modules`. */
function install(name: string, sourceDir: string, modules: string): void {
  const target = join(modules, name);
  if (existsSync(target)) return;
  copyPackage(sourceDir, target);
  const manifest = JSON.parse(readFileSync(join(sourceDir, 'package.json'), 'utf-8'));
  const bundled = new Set<string>(manifest.bundleDependencies ?? manifest.bundledDependencies ?? []);
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (bundled.has(dependency) || existsSync(join(target, 'node_modules', dependency))) continue;
    install(dependency, resolvePackageDir(dependency, sourceDir), modules);
  }
}

function run(command: string, args: string[], cwd: string): void {
  console.log(`$ ${[command, ...args].join(' ')}`);
  execFileSync(command, args, { cwd, stdio: 'inherit' });
}

const tarball = packedTarball();
const workdir = mkdtempSync(join(tmpdir(), 'cdk-ecs-drain-hook-fresh-app-'));
try {
  for (const variant of VARIANTS) {
    const app = join(workdir, variant.name.replace(/\W+/g, '-'));
    const modules = join(app, 'node_modules');
    console.log(`\n== fresh app at the ${variant.name}: ${app}`);
    mkdirSync(join(modules, 'cdk-ecs-drain-hook'), { recursive: true });
    run('tar', ['-xzf', tarball, '-C', join(modules, 'cdk-ecs-drain-hook'), '--strip-components=1'], app);
    for (const [name, source] of Object.entries(variant.packages)) install(name, join(REPO_MODULES, source), modules);
    install('@types/node', join(REPO_MODULES, '@types', 'node'), modules);
    const versions = Object.fromEntries(['cdk-ecs-drain-hook', ...Object.keys(variant.packages)]
      .map(name => [name, JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf-8')).version]));
    console.log(`installed: ${JSON.stringify(versions)}`);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, dependencies: versions }, undefined, 2));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, undefined, 2));
    cpSync(join(__dirname, 'app.ts'), join(app, 'app.ts'));
    run(process.execPath, [join(REPO_MODULES, 'typescript', 'bin', 'tsc'), '-p', app], app);
    run(process.execPath, [join(app, 'dist', 'app.js')], app);
  }
} finally {
  rmSync(workdir, { recursive: true, force: true });
}
