/**
 * Resolves the CloudFormation intrinsic functions a CDK template uses to plain values, the way
 * CloudFormation would at deploy time, with the simulation's fixed account and region.
 * CloudFormation user guide, "Intrinsic function reference" and "Pseudo parameters reference".
 */

export const SIM_REGION = 'us-east-1';
export const SIM_ACCOUNT = '123456789012';
export const SIM_PARTITION = 'aws';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly Metadata?: Record<string, any>;
  readonly Condition?: string;
}

export interface Template {
  readonly Resources?: Record<string, TemplateResource>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
}

/**
 * The property that names a resource explicitly (CloudFormation resource reference, each type's
 * "Name" property). Without it, CloudFormation generates a name; the simulation uses
 * `<stackName>-<logicalId>` so names stay readable and deterministic.
 */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::ECS::Cluster': 'ClusterName',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
  'AWS::AutoScaling::LifecycleHook': 'LifecycleHookName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Events::Rule': 'Name',
  'AWS::Events::EventBus': 'Name',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::Policy': 'PolicyName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::Logs::LogGroup': 'LogGroupName',
};

export class TemplateResolver {
  private readonly names = new Map<string, string>();

  constructor(readonly stackName: string, private readonly template: Template) {}

  /** The physical name of a resource: its explicit name property if set, else `<stack>-<logicalId>`. */
  physicalName(logicalId: string): string {
    const cached = this.names.get(logicalId);
    if (cached !== undefined) return cached;
    const resource = this.resource(logicalId);
    const nameProperty = NAME_PROPERTY[resource.Type];
    const explicit = nameProperty ? resource.Properties?.[nameProperty] : undefined;
    const name = explicit !== undefined ? String(this.resolve(explicit)) : `${this.stackName}-${logicalId}`;
    this.names.set(logicalId, name);
    return name;
  }

  /** `Fn::GetAtt` for the attributes a wiring needs (mostly `Arn`). */
  attribute(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    const prefix = `arn:${SIM_PARTITION}`;
    if (attribute === 'Arn') {
      switch (resource.Type) {
        case 'AWS::Lambda::Function': return `${prefix}:lambda:${SIM_REGION}:${SIM_ACCOUNT}:function:${name}`;
        case 'AWS::ECS::Cluster': return `${prefix}:ecs:${SIM_REGION}:${SIM_ACCOUNT}:cluster/${name}`;
        case 'AWS::Events::Rule': {
          // A rule of a custom bus has the bus in its ARN: rule/<bus>/<rule> (only the default bus's omit it).
          const bus = this.ruleBusName(logicalId);
          return `${prefix}:events:${SIM_REGION}:${SIM_ACCOUNT}:rule/${bus !== undefined ? `${bus}/` : ''}${name}`;
        }
        case 'AWS::Events::EventBus': return `${prefix}:events:${SIM_REGION}:${SIM_ACCOUNT}:event-bus/${name}`;
        case 'AWS::SQS::Queue': return `${prefix}:sqs:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
        case 'AWS::IAM::Role': return `${prefix}:iam::${SIM_ACCOUNT}:role/${name}`;
        case 'AWS::IAM::ManagedPolicy': return `${prefix}:iam::${SIM_ACCOUNT}:policy${this.resolve(resource.Properties?.Path) ?? '/'}${name}`;
        case 'AWS::Logs::LogGroup': return `${prefix}:logs:${SIM_REGION}:${SIM_ACCOUNT}:log-group:${name}:*`;
        default: return `${prefix}:${serviceOf(resource.Type)}:${SIM_REGION}:${SIM_ACCOUNT}:${name}`;
      }
    }
    if (attribute === 'QueueName' || attribute === 'TopicName' || attribute === 'Name') return name;
    if (attribute === 'QueueUrl') return `https://sqs.${SIM_REGION}.amazonaws.com/${SIM_ACCOUNT}/${name}`;
    return `${name}.${attribute}`;
  }

  /**
   * The bus an AWS::Events::Rule belongs to (`EventBusName`: a name or a bus ARN), by name;
   * undefined for the default bus (also when the template names `default`).
   */
  ruleBusName(logicalId: string): string | undefined {
    const value = this.resolve(this.resource(logicalId).Properties?.EventBusName);
    if (value === undefined) return undefined;
    const text = String(value);
    const name = text.startsWith('arn:') ? text.slice(text.indexOf(':event-bus/') + ':event-bus/'.length) : text;
    return name === 'default' ? undefined : name;
  }

  /** `Ref`: a parameter's default, a pseudo parameter, or the resource's Ref value. */
  ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region': return SIM_REGION;
      case 'AWS::AccountId': return SIM_ACCOUNT;
      case 'AWS::Partition': return SIM_PARTITION;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return this.stackName;
      case 'AWS::StackId': return `arn:aws:cloudformation:${SIM_REGION}:${SIM_ACCOUNT}:stack/${this.stackName}/sim`;
      case 'AWS::NoValue': return undefined;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default;
    const resource = this.resource(name);
    // Ref returns the ARN for these types, the name (or id) for most others.
    if (resource.Type === 'AWS::SNS::Topic') return this.attribute(name, 'Arn');
    if (resource.Type === 'AWS::SQS::Queue') return this.attribute(name, 'QueueUrl');
    if (resource.Type === 'AWS::IAM::ManagedPolicy') return this.attribute(name, 'Arn');
    return this.physicalName(name);
  }

  /** Resolves every intrinsic inside `value`, deeply. */
  resolve(value: unknown): any {
    if (Array.isArray(value)) return value.map(v => this.resolve(v)).filter(v => v !== undefined);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0];
      const fn = this.intrinsic(key, arg);
      if (fn !== NOT_INTRINSIC) return fn;
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== undefined) out[key] = resolved;
    }
    return out;
  }

  /** Evaluates a named condition of the template's `Conditions` section. */
  condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    return Boolean(this.resolve(definition));
  }

  private intrinsic(key: string, arg: any): unknown {
    switch (key) {
      case 'Ref': return this.ref(arg);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        return this.attribute(id, attr);
      }
      case 'Fn::Join': {
        const [separator, parts] = arg;
        return (this.resolve(parts) as unknown[]).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, source] = arg;
        return String(this.resolve(source)).split(separator);
      }
      case 'Fn::Sub': return this.sub(arg);
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = arg;
        return this.resolve(this.condition(name) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = arg;
        return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
      }
      case 'Fn::Not': return !this.resolve(arg[0]);
      case 'Fn::And': return (arg as unknown[]).every(c => this.resolve(c));
      case 'Fn::Or': return (arg as unknown[]).some(c => this.resolve(c));
      case 'Condition': return this.condition(arg);
      case 'Fn::GetAZs': return [`${SIM_REGION}a`, `${SIM_REGION}b`, `${SIM_REGION}c`];
      case 'Fn::Base64': return Buffer.from(String(this.resolve(arg))).toString('base64');
      default: return NOT_INTRINSIC;
    }
  }

  /** `Fn::Sub`: `${Name}` is a Ref, `${Id.Attr}` a GetAtt, `${!Literal}` stays `${Literal}`. */
  private sub(arg: unknown): string {
    const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
    const vars = this.resolve(variables) as Record<string, unknown>;
    return String(text).replace(/\$\{([^}]*)\}/g, (_match, expr: string) => {
      if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
      if (expr in vars) return String(vars[expr]);
      const dot = expr.indexOf('.');
      if (dot > 0 && !expr.startsWith('AWS::')) return this.attribute(expr.slice(0, dot), expr.slice(dot + 1));
      return String(this.ref(expr));
    });
  }

  private resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources?.[logicalId];
    if (!resource) throw new Error(`${this.stackName}: no resource or parameter named ${logicalId}`);
    return resource;
  }
}

const NOT_INTRINSIC = Symbol('not an intrinsic');

function serviceOf(type: string): string {
  return type.split('::')[1]?.toLowerCase() ?? 'unknown';
}
