/**
 * Amazon SNS standard topics, as far as EventBridge targets need them: the template's topics and
 * topic policies, and the messages published to each, kept for tests and scenarios to read.
 *
 * - EventBridge publishes to a topic target as `events.amazonaws.com`, and the topic's policy must
 *   allow it `sns:Publish` (EventBridge user guide, "Using resource-based policies for Amazon
 *   EventBridge", Amazon SNS permissions): the decision is the resource-based policy's
 *   (emulator/iam/resource-policy.ts), its conditions evaluated with `aws:SourceArn` (the rule's
 *   ARN) and `aws:SourceAccount`. A topic without a policy allows EventBridge nothing (the
 *   default topic policy's grant is to the account's own principals; the emulator does not model
 *   it). Requests come over TLS (`aws:SecureTransport` true).
 * - The message is the text EventBridge sends (the event as JSON, or the target's Input,
 *   InputPath or InputTransformer result, runtime/target-input.ts). A rule target has no parameter
 *   for a subject (AWS::Events::Rule Target has none for SNS), so EventBridge's messages carry none.
 *
 * Not modelled: subscriptions and their deliveries, message filtering, FIFO topics and
 * server-side encryption (refused when the template is read), the Publish API itself.
 */
import type { TopicSpec } from './assembly';
import { Decision } from '../emulator/iam/policy';
import { decideAccess, parseResourcePolicy, RequestPrincipal, ResourcePolicy } from '../emulator/iam/resource-policy';
import { SeededRandom } from '../emulator/random';

/** A message published to a topic. */
export interface SnsMessage {
  readonly messageId: string;
  readonly topicArn: string;
  /** Undefined: published without a subject (EventBridge's always are). */
  readonly subject?: string;
  readonly message: string;
  /** Virtual ms. */
  readonly timestamp: number;
  /** Who published: `events.amazonaws.com` for EventBridge. */
  readonly publisher: string;
  /** The rule an EventBridge delivery came from (its `aws:SourceArn`). */
  readonly sourceArn?: string;
}

interface Topic {
  spec: TopicSpec;
  policy?: ResourcePolicy;
  readonly messages: SnsMessage[];
}

export class SnsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = code;
  }
}

export class Sns {
  private readonly topics = new Map<string, Topic>();
  /** Messages of deleted topics stay readable. */
  private readonly deleted = new Map<string, SnsMessage[]>();
  private readonly random: SeededRandom;

  constructor(private readonly options: { readonly now: () => number; readonly seed?: number }) {
    this.random = new SeededRandom((options.seed ?? 1) + 9_000_011);
  }

  /** CreateTopic; AlreadyExists-like SnsError for an ARN that exists. */
  createTopic(spec: TopicSpec): void {
    if (this.topics.has(spec.arn)) throw new SnsError('AlreadyExists', `Topic ${spec.name} already exists`);
    this.topics.set(spec.arn, { spec, messages: [] });
  }

  deleteTopic(arn: string): void {
    const topic = this.topics.get(arn);
    if (!topic) return;
    this.deleted.set(arn, [...(this.deleted.get(arn) ?? []), ...topic.messages]);
    this.topics.delete(arn);
  }

  hasTopic(arn: string): boolean {
    return this.topics.has(arn);
  }

  /** Parses a topic policy document; throws what IAM would refuse or the emulator does not model. */
  checkPolicy(name: string, document: unknown): ResourcePolicy {
    return parseResourcePolicy(name, document);
  }

  setPolicy(arn: string, policy: ResourcePolicy | undefined): void {
    const topic = this.requireTopic(arn);
    topic.policy = policy;
  }

  policy(arn: string): ResourcePolicy | undefined {
    return this.topics.get(arn)?.policy;
  }

  /** The decision for `principal`'s `action` on the topic, by its policy (and the principal's identity policies, none for a service). */
  authorize(arn: string, principal: RequestPrincipal, action: string, context: Record<string, string>): Decision {
    return decideAccess(principal, { action, resource: arn, context: { 'aws:SecureTransport': 'true', ...context } }, this.topics.get(arn)?.policy);
  }

  /** Publish (after the caller was authorized): records the message and returns its id. */
  publish(arn: string, message: string, options: { readonly publisher: string; readonly subject?: string; readonly sourceArn?: string }): string {
    const topic = this.requireTopic(arn);
    const messageId = this.random.uuid();
    topic.messages.push({
      messageId,
      topicArn: arn,
      ...(options.subject !== undefined ? { subject: options.subject } : {}),
      message,
      timestamp: this.options.now(),
      publisher: options.publisher,
      ...(options.sourceArn !== undefined ? { sourceArn: options.sourceArn } : {}),
    });
    return messageId;
  }

  /** Every message published to the topic (ARN), in order; a deleted topic's too. */
  messages(arn: string): readonly SnsMessage[] {
    return [...(this.deleted.get(arn) ?? []), ...(this.topics.get(arn)?.messages ?? [])];
  }

  /** The topic's ARN by name (a topic that exists). */
  arnOfName(name: string): string | undefined {
    return [...this.topics.values()].find(t => t.spec.name === name)?.spec.arn;
  }

  private requireTopic(arn: string): Topic {
    const topic = this.topics.get(arn);
    if (!topic) throw new SnsError('NotFound', `Topic does not exist: ${arn}`);
    return topic;
  }
}
