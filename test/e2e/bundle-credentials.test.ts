/**
 * The bundled handler's credentials: the execution role's, from the environment Lambda provides
 * (lambda/env-credentials.ts replaces the SDK's default chain in the bundle). Without them it
 * fails at once with the SDK's own error, and looks nowhere else (no shared config file, no
 * instance metadata service).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENV } from '../../src/constants';

const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'lambda', 'drain-controller.lambda', 'index.js');

/** Invokes the bundle's handler once, directly, with a lifecycle action event; returns its error message, or 'ok'. */
function invokeBundle(credentials: boolean): string {
  const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-credentials-'));
  fs.copyFileSync(BUNDLE, path.join(taskRoot, 'index.js'));
  // A home with a shared credentials file: the default chain would read it; the bundle must not.
  fs.mkdirSync(path.join(taskRoot, '.aws'));
  fs.writeFileSync(path.join(taskRoot, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIAFROMFILE\naws_secret_access_key = file\n');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: taskRoot,
    [ENV.CLUSTER_NAME]: 'c',
    [ENV.AUTO_SCALING_GROUP_NAMES]: '["g"]',
    [ENV.LIFECYCLE_HOOK_NAME]: 'h',
    [ENV.DRAIN_TIMEOUT_SECONDS]: '3600',
    [ENV.HEARTBEAT_TIMEOUT_SECONDS]: '3900',
    [ENV.FORCE_DEREGISTER_ON_TIMEOUT]: 'true',
    [ENV.DRAIN_ON_SPOT_INTERRUPTION]: 'true',
    [ENV.METRICS_NAMESPACE]: 'N',
    [ENV.DIAGNOSE_DRAINS_AFTER_SECONDS]: '600',
    AWS_REGION: 'us-east-1',
    // Nothing listens on port 9 of loopback: a call that gets as far as sending is refused there.
    AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_AUTO_SCALING: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_EVENTBRIDGE: 'http://127.0.0.1:9',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...credentials ? { AWS_ACCESS_KEY_ID: 'ASIAFROMENVIRONMENT0', AWS_SECRET_ACCESS_KEY: 'env', AWS_SESSION_TOKEN: 'token' } : {},
  };
  const event = {
    'source': 'aws.autoscaling',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    'time': '2026-11-28T10:00:00Z',
    'detail': { EC2InstanceId: 'i-0123456789abcdef0', AutoScalingGroupName: 'g', LifecycleHookName: 'h' },
  };
  const script = 'require(process.argv[1]).handler(JSON.parse(process.argv[2])).then('
    + '() => process.stdout.write("ok"), e => process.stdout.write(String(e && e.message)))';
  try {
    return execFileSync(process.execPath, ['-e', script, path.join(taskRoot, 'index.js'), JSON.stringify(event)], {
      env, cwd: taskRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000,
    });
  } finally {
    fs.rmSync(taskRoot, { recursive: true, force: true });
  }
}

describe('the bundled handler', () => {
  test('carries none of the default credential chain\'s other sources', () => {
    const bundle = fs.readFileSync(BUNDLE, 'utf8');
    for (const source of ['credential-provider-sso', 'credential-provider-ini', 'credential-provider-process', 'credential-provider-imds']) {
      expect(bundle).not.toContain(`@aws-sdk/${source}`);
      expect(bundle).not.toContain(`@smithy/${source}`);
    }
    expect(bundle).not.toContain('defaultProvider::fromSSO');
  });

  test('without credentials in the environment fails with the SDK\'s error, not with a shared file\'s credentials', () => {
    expect(invokeBundle(false)).toMatch(/Unable to find environment variable credentials/);
  });

  test('with the environment\'s credentials gets as far as sending the call', () => {
    expect(invokeBundle(true)).toMatch(/ECONNREFUSED|connect/);
  });
});
