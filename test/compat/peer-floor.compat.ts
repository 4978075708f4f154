import { readFileSync } from 'fs';
import { join } from 'path';
import { Stack } from 'aws-cdk-lib';
import { version as cdkVersion } from 'aws-cdk-lib/package.json';
import { Construct } from 'constructs';
import { version as constructsVersion } from 'constructs/package.json';

// Runs only under test/compat/jest.config.json: proves that the floor run really loads the
// lowest versions that package.json's peerDependencies allow, and not the build's own versions.

const packageJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf-8'));
const floorOf = (name: string): string => /^\^(\d+\.\d+\.\d+)$/.exec(packageJson.peerDependencies[name])![1];

describe('the peer-dependency floor run', () => {
  test.each([['aws-cdk-lib', cdkVersion], ['constructs', constructsVersion]])('loads %s at the peer range\'s minimum', (name, loaded) => {
    expect(loaded).toBe(floorOf(name));
  });

  test('aws-cdk-lib sees the same constructs (one Construct class in the whole run)', () => {
    expect(new Stack()).toBeInstanceOf(Construct);
  });
});
