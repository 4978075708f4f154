/**
 * Preloaded into the integration test app when integ-runner runs it (the "app" command of
 * integ.config.json): the app resolves aws-cdk-lib to 2.245.0 (devDependency alias
 * aws-cdk-lib-integ), the release @aws-cdk/integ-tests-alpha 2.245.0-alpha.0 belongs to, and
 * the cloud assembly schema to the 53.x that release depends on (alias cloud-assembly-schema-integ:
 * `npm ci` does not install aws-cdk-lib 2.245's own copy, whose lockfile entry npm marks as
 * bundled, so it would find the 55.x hoisted for aws-cdk-lib 2.276).
 *
 * integ-runner 2.197.10, the newest on npm, reads cloud assemblies up to schema version 53.x;
 * aws-cdk-lib 2.276 writes 55.0.0, which integ-runner refuses ("Cloud assembly schema version
 * mismatch: Maximum schema version supported is 53.x.x, but found 55.0.0"). The construct itself
 * is tested from 2.120.0 to 2.276 elsewhere (test:floor, test).
 */
// The default import is the module object itself, whose resolver the patch below replaces.
import Module from 'module';

const SUBSTITUTES: Record<string, string> = {
  'aws-cdk-lib': 'aws-cdk-lib-integ',
  '@aws-cdk/cloud-assembly-schema': 'cloud-assembly-schema-integ',
};

function substitute(request: string): string {
  for (const [name, alias] of Object.entries(SUBSTITUTES)) {
    if (request === name || request.startsWith(`${name}/`)) return alias + request.slice(name.length);
  }
  return request;
}

type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
const resolveFilename = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function resolveForIntegRunner(this: unknown, request: string, ...rest: unknown[]): string {
  return resolveFilename.call(this, substitute(request), ...rest);
};
