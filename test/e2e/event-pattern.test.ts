import * as fs from 'fs';
import * as path from 'path';
import { matchesPattern } from '../../sim/runtime/event-pattern';
import { parseRate } from '../../sim/runtime/eventbridge';

const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../events', `${name}.json`), 'utf-8'));
const lifecycle = sample('ec2-instance-terminate-lifecycle-action');
const ecs = sample('ecs-container-instance-state-change');

describe('EventBridge pattern matching', () => {
  test.each([
    ['exact source and detail-type', { 'source': ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'] }, lifecycle, true],
    ['one of several values', { source: ['aws.ec2', 'aws.autoscaling'] }, lifecycle, true],
    ['wrong value', { source: ['aws.ecs'] }, lifecycle, false],
    ['nested detail field', { detail: { AutoScalingGroupName: ['my-ecs-asg'], LifecycleHookName: ['my-drain-hook'] } }, lifecycle, true],
    ['nested detail field mismatch', { detail: { LifecycleHookName: ['other-hook'] } }, lifecycle, false],
    ['missing nested field', { detail: { NoSuchField: ['x'] } }, lifecycle, false],
    ['number value', { detail: { version: [14] } }, ecs, true],
    ['number is not its string', { detail: { version: ['14'] } }, ecs, false],
    ['boolean value', { detail: { agentConnected: [true] } }, ecs, true],
    ['prefix', { detail: { clusterArn: [{ prefix: 'arn:aws:ecs:us-east-1:' }] } }, ecs, true],
    ['prefix mismatch', { detail: { clusterArn: [{ prefix: 'arn:aws:ecs:eu-west-1:' }] } }, ecs, false],
    ['anything-but value', { detail: { status: [{ 'anything-but': 'ACTIVE' }] } }, ecs, true],
    ['anything-but list hit', { detail: { status: [{ 'anything-but': ['ACTIVE', 'DRAINING'] }] } }, ecs, false],
    ['anything-but on a missing field', { detail: { nothing: [{ 'anything-but': 'x' }] } }, ecs, false],
    ['anything-but prefix', { detail: { status: [{ 'anything-but': { prefix: 'DRAIN' } }] } }, ecs, false],
    ['exists true', { detail: { ec2InstanceId: [{ exists: true }] } }, ecs, true],
    ['exists false on a missing field', { detail: { missing: [{ exists: false }] } }, ecs, true],
    ['exists false on a present field', { detail: { ec2InstanceId: [{ exists: false }] } }, ecs, false],
    ['array field matches any element', { resources: ['arn:aws:ecs:us-east-1:123456789012:container-instance/my-cluster/b54a2a04046f4d79a2a34b8d8fc37e1c'] }, ecs, true],
    ['numeric range', { detail: { version: [{ numeric: ['>', 10, '<=', 14] }] } }, ecs, true],
    ['numeric range miss', { detail: { version: [{ numeric: ['>', 14] }] } }, ecs, false],
    ['$or', { $or: [{ source: ['aws.ec2'] }, { detail: { status: ['DRAINING'] } }] }, ecs, true],
  ])('%s', (_name, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  test('a leaf that is not an array is an invalid pattern', () => {
    expect(() => matchesPattern({ source: 'aws.ecs' }, ecs)).toThrow(/must be an array/);
  });
});

describe('schedule expressions', () => {
  test.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(2 hours)', 7_200_000],
    ['rate(1 day)', 86_400_000],
  ])('%s', (expression, ms) => expect(parseRate(expression)).toBe(ms));

  test.each(['rate(1 minutes)', 'rate(2 minute)', 'cron(0 * * * ? *)', 'rate(0 minutes)'])('rejects %s', expression => {
    expect(() => parseRate(expression)).toThrow();
  });
});
