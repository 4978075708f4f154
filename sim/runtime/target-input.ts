/**
 * What a rule sends to a target instead of the event: `Input`, `InputPath` or `InputTransformer`
 * (AWS::Events::Rule Target; EventBridge user guide, "Amazon EventBridge input transformation";
 * API reference, InputTransformer). Shared by function, queue and topic targets.
 *
 * Checked when the template is read, as PutTargets checks them: at most one of the three ("Only
 * one of Input, InputPath, or InputTransformer must be provided"); at most 100 variables, named by
 * `[A-Za-z0-9_-]+` and not starting with "AWS."; each a JSON path; the template 1..8192 characters;
 * a placeholder naming no variable is refused ("InputTemplate for target <id> contains invalid
 * placeholder <name>."). The predefined variables are `aws.events.rule-arn`, `aws.events.rule-name`,
 * `aws.events.event.ingestion-time` and `aws.events.event.json` ("The exact payload of an event as a
 * string"). `aws.events.event` ("A copy of the original event") is refused as not modelled: what AWS
 * sends for it is not the copy the page describes.
 *
 * JSON paths: "EventBridge does not support all JSON Path syntax": dot notation, dashes,
 * underscores, alphanumeric characters, array indices, wildcards, forward slashes; the emulator
 * evaluates all of them but wildcards (refused as not modelled).
 *
 * Filling the template (the user guide's "Input transform examples", and what AWS sends): a
 * placeholder inside a JSON string of the template gets the value's text (a string as it is,
 * escaped for the string it stands in; anything else as JSON text); outside a string it gets the
 * value as JSON (a string in quotes). A path the event does not have gives an empty string (`""`
 * outside a string), as AWS sends it. The result is sent as text: a template that is a JSON string
 * (`"instance <instance> is in <state>"`) reaches a queue or topic with its quotes. InputPath sends
 * the value as JSON (a path the event lacks: `null`, the emulator's choice; AWS does not say).
 */
import type { InputTransformerSpec } from './assembly';

/* eslint-disable @typescript-eslint/no-explicit-any */

const PREDEFINED = ['aws.events.rule-arn', 'aws.events.rule-name', 'aws.events.event.ingestion-time', 'aws.events.event.json'];
const MAX_VARIABLES = 100;
const MAX_TEMPLATE_LENGTH = 8192;
const KEY_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;
/** `$`, then `.name` (letters, digits, `-`, `_`, `/`) or `[index]` steps. */
const PATH_PATTERN = /^\$((\.[A-Za-z0-9_\-/]+)|(\[\d+\]))*$/;
const PLACEHOLDER = /<([^<>]+)>/g;

/** What the rule's event handling needs to fill a template. */
export interface TargetInputContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** When EventBridge received the event (virtual ms). */
  readonly ingestedAt: number;
}

/** Checks a template target's input properties; returns its InputTransformer, if any. Throws what PutTargets refuses. */
export function checkTargetInput(where: string, target: any): InputTransformerSpec | undefined {
  const given = ['Input', 'InputPath', 'InputTransformer'].filter(key => target[key] !== undefined);
  if (given.length > 1) throw new Error(`${where}: Only one of Input, InputPath, or InputTransformer must be provided`);
  if (target.InputPath !== undefined) checkPath(where, String(target.InputPath));
  const transformer = target.InputTransformer;
  if (transformer === undefined) return undefined;
  const inputPathsMap: Record<string, string> = Object.fromEntries(Object.entries(transformer.InputPathsMap ?? {}).map(([k, v]) => [k, String(v)]));
  const template = transformer.InputTemplate;
  if (typeof template !== 'string' || template.length < 1 || template.length > MAX_TEMPLATE_LENGTH) {
    throw new Error(`${where}: InputTemplate must be 1 to ${MAX_TEMPLATE_LENGTH} characters`);
  }
  const keys = Object.keys(inputPathsMap);
  if (keys.length > MAX_VARIABLES) throw new Error(`${where}: InputPathsMap has more than ${MAX_VARIABLES} variables`);
  for (const key of keys) {
    if (!KEY_PATTERN.test(key) || key.toUpperCase().startsWith('AWS.')) throw new Error(`${where}: InputPathsMap key ${key} is not valid`);
    checkPath(where, inputPathsMap[key]);
  }
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name === 'aws.events.event') throw new Error(`${where}: the predefined variable aws.events.event is not modelled by the emulator`);
    if (!keys.includes(name) && !PREDEFINED.includes(name)) {
      throw new Error(`${where}: InputTemplate for target ${String(target.Id)} contains invalid placeholder ${name}.`);
    }
  }
  return { inputPathsMap, inputTemplate: template };
}

function checkPath(where: string, path: string): void {
  if (path.includes('*')) throw new Error(`${where}: JSON path ${path}: wildcards are not modelled by the emulator`);
  if (!PATH_PATTERN.test(path)) throw new Error(`${where}: ${path} is not a valid JSON path (dot notation)`);
}

/** The value at a JSON path of `value`, or undefined when it has none. */
export function valueAt(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const [, name, index] of path.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = index !== undefined ? (Array.isArray(current) ? current[Number(index)] : undefined) : (current as Record<string, unknown>)[name];
    if (current === undefined) return undefined;
  }
  return current;
}

/**
 * The text a target gets for `event`: the event as JSON, `Input`, the InputPath's value or the
 * filled InputTransformer template.
 */
export function targetInputText(
  target: { readonly inputText?: string; readonly inputPath?: string; readonly inputTransformer?: InputTransformerSpec },
  event: unknown,
  context: TargetInputContext,
): string {
  if (target.inputText !== undefined) return target.inputText;
  if (target.inputPath !== undefined) return JSON.stringify(valueAt(event, target.inputPath) ?? null);
  if (target.inputTransformer !== undefined) return fillTemplate(target.inputTransformer, event, context);
  return JSON.stringify(event);
}

function fillTemplate(transformer: InputTransformerSpec, event: unknown, context: TargetInputContext): string {
  const values = (name: string): unknown => {
    switch (name) {
      case 'aws.events.rule-arn': return context.ruleArn;
      case 'aws.events.rule-name': return context.ruleName;
      case 'aws.events.event.ingestion-time': return new Date(context.ingestedAt).toISOString();
      case 'aws.events.event.json': return event;
      default: return valueAt(event, transformer.inputPathsMap[name]);
    }
  };
  const template = transformer.inputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '\\' && inString) {
      out += template.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    if (c === '<') {
      const end = template.indexOf('>', i + 1);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (name !== '' && !name.includes('<')) {
        out += inString ? insideString(values(name)) : outsideString(values(name));
        i = end;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** A value filled into a JSON string of the template: its text, escaped for the string. */
function insideString(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text).slice(1, -1);
}

/** A value filled in outside any string: JSON (a missing one is an empty string). */
function outsideString(value: unknown): string {
  return value === undefined ? '""' : JSON.stringify(value);
}
