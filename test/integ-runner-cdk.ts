/**
 * Preloaded into the integration test app when integ-runner runs it (the "app" command of
 * integ.config.json): the app resolves aws-cdk-lib to 2.245.0 (devDependency alias
 * aws-cdk-lib-integ), the release @aws-cdk/integ-tests-alpha 2.245.0-alpha.0 belongs to.
 *
 * integ-runner 2.197.10, the newest on npm, reads cloud assemblies up to schema version 53.x;
 * aws-cdk-lib 2.276 writes 55.0.0, which integ-runner refuses ("Cloud assembly schema version
 * mismatch: Maximum schema version supported is 53.x.x, but found 55.0.0"). aws-cdk-lib 2.245.0
 * writes 53.0.0. The construct itself is tested from 2.120.0 to 2.276 elsewhere (test:floor, test).
 */
// The default import is the module object itself, whose resolver the patch below replaces.
import Module from 'module';

const AWS_CDK_LIB = 'aws-cdk-lib';
const FOR_INTEG_RUNNER = 'aws-cdk-lib-integ';

type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
const resolveFilename = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function resolveForIntegRunner(this: unknown, request: string, ...rest: unknown[]): string {
  const isCdk = request === AWS_CDK_LIB || request.startsWith(`${AWS_CDK_LIB}/`);
  return resolveFilename.call(this, isCdk ? FOR_INTEG_RUNNER + request.slice(AWS_CDK_LIB.length) : request, ...rest);
};
