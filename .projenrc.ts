import { awscdk, DependencyType, javascript, JsonFile } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

// Dev tooling that runs the emulator, simulations and benchmarks through TypeScript sources.
const TS_NODE = 'ts-node --transpile-only --project test/tsconfig.json';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ecs-drain-hook',
  description:
    'Drains ECS container instances before their Auto Scaling group terminates them: a lifecycle hook and a level-triggered drain controller.',
  author: 'cdk-ecs-drain-hook maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk-ecs-drain-hook.git',
  keywords: ['cdk', 'ecs', 'autoscaling', 'drain', 'lifecycle-hook', 'spot'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  license: 'Apache-2.0',

  // The lowest aws-cdk-lib that has everything the construct uses: lambda.Function's `logGroup`
  // and AsgCapacityProvider.enableManagedDraining (2.110.0 lacks the latter; the construct was
  // synthesized against 2.120.0). cdk-nag acknowledgements need 2.257.0 and are skipped below it.
  cdkVersion: '2.120.0',
  constructsVersion: '10.0.5',
  // Build and test against current versions (added below), not against the floor.
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',

  // Python, Java, .NET and Go bindings (their registries are not reachable from the build
  // machine, so `package` checks their generated code instead of building packages; see below).
  publishToPypi: { distName: 'cdk-ecs-drain-hook', module: 'cdk_ecs_drain_hook' },
  publishToMaven: {
    javaPackage: 'io.github.cdkecsdrainhook',
    mavenGroupId: 'io.github.cdkecsdrainhook',
    mavenArtifactId: 'cdk-ecs-drain-hook',
  },
  publishToNuget: { dotNetNamespace: 'CdkEcsDrainHook', packageId: 'CdkEcsDrainHook' },
  publishToGo: { moduleName: 'github.com/example/cdk-ecs-drain-hook-go' },

  github: false,
  release: false,
  depsUpgrade: false,

  devDeps: [
    '@aws-sdk/client-ecs@^3',
    '@aws-sdk/client-auto-scaling@^3',
    // The drain events the controller publishes (lambda/drain-events.ts).
    '@aws-sdk/client-eventbridge@^3',
    // The handler's only credential source (lambda/env-credentials.ts); the clients depend on it already.
    '@aws-sdk/credential-provider-env@^3',
    '@types/aws-lambda@^8',
    '@types/node@^20',
    'aws-sdk-client-mock@^4',
    'aws-sdk-client-mock-jest@^4',
    'cdk-nag@^3',
    'esbuild@^0.28',
    // Property tests of the controller's event parsing: a failing event shrinks to a small one.
    'fast-check@^4',
    // The ecosystem's integration test form: test/integ.scale-in.ts, snapshot checked in the build.
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    '@aws-cdk/integ-runner@^2.197.10',
    // integ-runner 2.197 (the newest) reads cloud assembly schema <= 53; aws-cdk-lib 2.276 writes 55.
    // The integration test app runs on the aws-cdk-lib released with integ-tests-alpha (schema 53).
    'aws-cdk-lib-integ@npm:aws-cdk-lib@2.245.0',
    // ...with the schema it writes: npm ci leaves aws-cdk-lib 2.245's own copy out (its lockfile
    // entry is marked inBundle), and the hoisted one is 2.276's 55.x (test/integ-runner-cdk.ts).
    'cloud-assembly-schema-integ@npm:@aws-cdk/cloud-assembly-schema@53.28.0',
    // The other ends of what users run, pinned here so they come from the lockfile: cdk-nag v2
    // (an Aspect) next to v3, and the peer-dependency floor with a cdk-nag v2 that supports it.
    'cdk-nag-v2@npm:cdk-nag@2.38.2',
    'aws-cdk-lib-floor@npm:aws-cdk-lib@2.120.0',
    'constructs-floor@npm:constructs@10.0.5',
    'cdk-nag-v2-floor@npm:cdk-nag@2.27.220',
  ],

  lambdaAutoDiscover: false,
  bundlerOptions: { esbuildVersion: '^0.28' },

  jestOptions: {
    // Snapshots are never rewritten by a test run.
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/assets/'],
      testTimeout: 60_000,
    },
  },
  tsconfigDev: {
    include: ['../lambda/**/*.ts', '../sim/**/*.ts'],
    // Compiled in its own fresh app against the packed library (test/fresh-app/check.ts).
    exclude: ['fresh-app/app.ts'],
    compilerOptions: {},
  },
  gitignore: ['/cdk.out/', '/sim-out/', '/assets/', '/test/cdk-integ.out.*'],
});

// aws-cdk-lib for building and testing is current (cdk-nag v3 needs >= 2.257.0);
// the peer-dependency floor above stays as low as the construct allows.
for (const [name, version] of [['aws-cdk-lib', '^2.276.0'], ['constructs', '^10.8.1']]) {
  project.deps.removeDependency(name, DependencyType.BUILD);
  project.deps.addDependency(`${name}@${version}`, DependencyType.BUILD);
}

// The drain controller lives in a top-level lambda/ folder (projen's auto-discovery only
// searches src/), is bundled at library build time and shipped as an asset under assets/.
new awscdk.LambdaFunction(project, {
  entrypoint: 'lambda/drain-controller.lambda.ts',
  constructFile: 'src/drain-controller-function.ts',
  constructName: 'DrainControllerFunction',
  cdkDeps: project.cdkDeps,
  runtime: awscdk.LambdaRuntime.NODEJS_24_X,
  // AWS_NODEJS_CONNECTION_REUSE_ENABLED only affects SDK v2; the handler bundles SDK v3 clients,
  // which reuse connections by default.
  awsSdkConnectionReuse: false,
  bundlingOptions: {
    // Bundle the SDK clients too, so the function runs the versions it was tested with.
    externals: [],
    sourcemap: false,
  },
});

for (const pattern of ['/lambda/', '/sim/', '/cdk.out/', '/sim-out/', '/BENCHMARKS.md', '/.ci/', '/integ.config.json']) {
  project.npmignore?.exclude(pattern);
}

// projen's LambdaFunction has no minify option: minified, the handler (with its SDK clients)
// stays small and starts fast. The SDK packages ship ES-module builds beside their CommonJS ones
// ("module" in their package.json): bundled from those, unused code is dropped, and the bundle is
// about 40 % smaller and loads about twice as fast (`npx projen bench` prints both figures). Those
// builds load `node:http` with a dynamic import(); bundled as a require (dynamic-import=false), the
// bundle runs the same in Lambda and in the emulator's module loader (a vm script, where import()
// needs --experimental-vm-modules). The SDK's default credential chain is replaced by the
// environment's credentials alone (lambda/env-credentials.ts: what Lambda provides), which drops the
// chain's other sources and the STS/SSO clients they carry, about a quarter of the bundle.
const bundleTask = project.tasks.tryFind('bundle:lambda/drain-controller.lambda')!;
bundleTask.reset(
  // target node20: the same bundle also runs in the local emulator on the build machine's Node.js 20.
  'esbuild --bundle lambda/drain-controller.lambda.ts --target=node20 --platform=node --minify --main-fields=module,main --supported:dynamic-import=false '
  + '--alias:@aws-sdk/credential-provider-node=./lambda/env-credentials.ts '
  + '--outfile=assets/lambda/drain-controller.lambda/index.js --tsconfig=test/tsconfig.json',
);

// lambda/ and sim/ are not jsii code: type-check them with the dev tsconfig, and give each
// folder a tsconfig of its own so eslint's project service finds it.
for (const dir of ['lambda', 'sim']) {
  project.eslint?.addLintPattern(dir);
  // The handler bundles its SDK clients at build time; the emulator is dev tooling.
  project.eslint?.allowDevDeps(`${dir}/**`);
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: { extends: '../test/tsconfig.json', include: ['**/*.ts', '../src/**/*.ts'] },
  });
}
const typecheck = project.addTask('typecheck', {
  description: 'Type-check src/, lambda/, sim/ and test/ (jsii compiles only src/)',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});
// The build machine's Node.js 20 makes every AWS SDK client print an end-of-support warning;
// the handler itself runs on Lambda's nodejs24.x. Keep test and simulation output readable.
const SDK_QUIET = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
for (const [key, value] of Object.entries(SDK_QUIET)) project.testTask.env(key, value);

// The end-to-end tests run the bundled handler, so the bundle is built before jest runs.
project.testTask.prependSpawn(typecheck);
project.testTask.prependSpawn(project.tasks.tryFind('bundle')!);

// The generated code of every jsii language is checked on each build; building the
// Python/Java/.NET/Go packages needs registries that are not reachable here.
const packageTask = project.tasks.tryFind('package')!;
packageTask.reset();
packageTask.spawn(project.tasks.tryFind('package:js')!);
// The packed tarball in a fresh strict TypeScript app, at the newest aws-cdk-lib and at the floor.
// app.ts imports the packed library and cdk-nag 2.x: it is type-checked there, not here.
project.eslint?.addIgnorePattern('test/fresh-app/app.ts');
const freshApp = project.addTask('test:fresh-app', {
  description: 'Install the packed tarball into a fresh strict TypeScript app (newest aws-cdk-lib and the peer floor, cdk-nag 2.x) and synthesize it',
  exec: `${TS_NODE} test/fresh-app/check.ts`,
});
packageTask.spawn(freshApp);
const codeOnly = project.addTask('package:code-only', {
  description: 'Generate (not build) the Python, Java, .NET and Go bindings to check them',
  exec: 'jsii-pacmak --code-only --outdir dist/code-only --targets python java dotnet go',
});
packageTask.spawn(codeOnly);

// The peer-dependency floor, tested: the construct, the example app and the tests that run at both
// ends compile and pass against the lowest aws-cdk-lib and constructs of the peer range (and a
// cdk-nag 2.x that supports them), installed from the lockfile under the *-floor aliases above.
const FLOOR_ALIASES: Record<string, string> = {
  'aws-cdk-lib': 'aws-cdk-lib-floor',
  'constructs': 'constructs-floor',
  'cdk-nag-v2': 'cdk-nag-v2-floor',
};
const FLOOR_TESTS = [
  'test/compat/peer-floor.compat.ts',
  'test/ecs-drain-hook.test.ts',
  'test/cdk-drain-hook-removal.test.ts',
  'test/example-app.test.ts',
  'test/nag-v2.test.ts',
];
new JsonFile(project, 'test/compat/tsconfig.json', {
  obj: {
    extends: '../tsconfig.json',
    compilerOptions: {
      paths: Object.fromEntries(Object.entries(FLOOR_ALIASES).flatMap(([name, alias]) => [
        [name, [`../../node_modules/${alias}`]],
        [`${name}/*`, [`../../node_modules/${alias}/*`]],
      ])),
    },
    include: ['../../src/**/*.ts', '../integ.drain-hook.ts', ...FLOOR_TESTS.map(t => `../../${t}`)],
    exclude: [],
  },
});
new JsonFile(project, 'test/compat/jest.config.json', {
  // jest rejects unknown keys such as projen's "//" marker.
  marker: false,
  obj: {
    displayName: 'peer-dependency floor',
    rootDir: '../..',
    testMatch: FLOOR_TESTS.map(t => `<rootDir>/${t}`),
    // Every module, aws-cdk-lib's own requires of constructs included, sees the floor versions.
    moduleNameMapper: Object.fromEntries(Object.entries(FLOOR_ALIASES).flatMap(([name, alias]) => [
      [`^${name}$`, `<rootDir>/node_modules/${alias}`],
      [`^${name}/(.*)$`, `<rootDir>/node_modules/${alias}/$1`],
    ])),
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
    testTimeout: 60_000,
  },
});
const testFloor = project.addTask('test:floor', {
  description: 'Type-check and run the construct, example-app and cdk-nag v2 tests against the lowest aws-cdk-lib and constructs of the peer range',
  env: SDK_QUIET,
});
testFloor.exec('tsc --noEmit -p test/compat/tsconfig.json');
testFloor.exec('jest --config test/compat/jest.config.json --passWithNoTests=false');
project.testTask.spawn(testFloor);
// JSII6 asks for a devDependency on the peer floor so that the library is compiled against it.
// The build compiles against current versions instead (cdk-nag v3 needs them) and test:floor
// type-checks and tests the library against the floor, which is what the warning guards.
project.compileTask.reset('jsii --silence-warnings=reserved-word --silence-warnings=metadata/missing-dev-dependency');

// The README's TypeScript snippets compile in strict mode against rosetta/default.ts-fixture, as
// Construct Hub compiles them (jsii-rosetta; `jsii.metadata.jsii.rosetta.strict` tells Construct
// Hub and jsii-pacmak to be strict too). The tablet feeds jsii-pacmak's Python/Java/.NET/Go docs;
// test/readme.test.ts checks that the README's Python block is the tablet's translation.
project.package.file.addOverride('jsii.metadata.jsii.rosetta.strict', true);
project.gitignore.exclude('/.jsii.tabl.json');
const rosettaExtract = project.addTask('rosetta:extract', {
  description: 'Compile the README\'s TypeScript snippets (strict) and translate them into .jsii.tabl.json',
  env: { JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(rosettaExtract);
project.addTask('readme:python', {
  description: 'Rewrite the README\'s Python blocks from the translations of its TypeScript blocks (after compile)',
  exec: `${TS_NODE} test/readme/update-python.ts`,
});

// The integration test on AWS (test/integ.scale-in.ts, @aws-cdk/integ-tests-alpha): the build only
// checks its committed snapshot. integ-runner deploys nothing without --update-on-failed or
// --force; the region and the disabled instance metadata service keep the AWS SDK inside it from
// looking for a region or credentials on the network (it tries 169.254.169.254 otherwise).
new JsonFile(project, 'integ.config.json', {
  // integ-runner reads this file as its command-line options: no "//" marker.
  marker: false,
  obj: {
    language: ['typescript'],
    testRegex: ['^integ\\.scale-in\\.ts$'],
    // test/integ-runner-cdk.ts: why the app runs on aws-cdk-lib 2.245.0.
    app: 'node -r ts-node/register/transpile-only -r ./test/integ-runner-cdk.ts {filePath}',
  },
});
const OFFLINE_AWS_SDK = { AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
const integ = project.addTask('integ', {
  description: 'Check the integration test\'s snapshot (test/integ.scale-in.ts.snapshot); deploys nothing',
  env: OFFLINE_AWS_SDK,
  exec: 'integ-runner',
});
project.testTask.spawn(integ);
project.addTask('integ:snapshot', {
  description: 'Rewrite the integration test\'s snapshot after a change of the construct, the test or the controller bundle; deploys nothing',
  env: OFFLINE_AWS_SDK,
  // --force: integ-runner calls a snapshot whose only change is an asset hash unchanged and keeps
  // the old bundle in it; forced, the snapshot holds the controller that would be deployed.
  exec: 'integ-runner --force --update-on-failed --dry-run',
});

const synthExample = project.addTask('synth:example', {
  description: 'Synthesize the example app (test/integ.drain-hook.ts) into cdk.out/',
  env: { CDK_OUTDIR: 'cdk.out' },
});
synthExample.spawn(project.tasks.tryFind('bundle')!);
synthExample.exec(`${TS_NODE} test/integ.drain-hook.ts`);

const simulate = project.addTask('simulate', {
  description: 'Scale in the example app on the local AWS emulator and report every drain (the main job)',
  receiveArgs: true,
  env: SDK_QUIET,
});
simulate.spawn(synthExample);
simulate.exec(`${TS_NODE} sim/simulate.ts`, { receiveArgs: true });

for (const [name, description] of [
  ['bench', 'Benchmark the controller against the aws-cdk drain hook algorithm on the emulator; writes BENCHMARKS.md'],
  ['chaos', 'Run the fault matrix against the emulator'],
]) {
  const task = project.addTask(name, { description, receiveArgs: true, env: SDK_QUIET });
  task.spawn(synthExample);
  task.exec(`${TS_NODE} sim/${name}.ts`, { receiveArgs: true });
}

project.synth();
