/**
 * A function's CommonJS handler module, compiled once and run afresh for every execution
 * environment: each run gets its own `module` and its own top-level state (SDK clients,
 * connection pools, caches), as `require` after clearing the cache gives, but V8 parses and
 * compiles the source only once and the copies share the bytecode.
 *
 * Why: a cold start through `require` re-reads, re-parses and re-compiles the whole bundle (the
 * drain controller's is 0.6 MB); at 1,000 concurrent environments that was most of a large
 * simulation's CPU time and a good part of its memory.
 *
 * The source is wrapped as Node's CommonJS loader wraps it (Node.js docs, "The module wrapper":
 * same parameters, same line numbers) and evaluated in the realm this module runs in, so the
 * handler sees the simulation's globals (virtual timers and Date, the captured console, the
 * process environment), also under Jest, whose test realm is not Node's main context.
 */
import * as fs from 'fs';
// `import =` gives the Module class itself (the module's `export =`).
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require('module');
import * as path from 'path';

type ModuleBody = (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;

export class ModuleImage {
  private readonly body: ModuleBody;
  private readonly require: NodeJS.Require;

  constructor(readonly filename: string) {
    const source = fs.readFileSync(filename, 'utf8').replace(/^#!.*/, '');
    // Indirect eval: global scope of this realm, nothing of this module's scope visible to the code.
    // eslint-disable-next-line no-eval
    const evaluate = eval;
    this.body = evaluate(`(function (exports, require, module, __filename, __dirname) { ${source}\n})\n//# sourceURL=${filename}`);
    this.require = Module.createRequire(filename);
  }

  /** Runs the module's body in a fresh module object; returns its `module.exports`. */
  instantiate(): Record<string, unknown> {
    const module = new Module(this.filename);
    module.filename = this.filename;
    this.body.call(module.exports, module.exports, this.require, module, this.filename, path.dirname(this.filename));
    module.loaded = true;
    return module.exports;
  }
}
