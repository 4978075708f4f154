/**
 * ECS custom attributes: what a name and a value may be, and how many a container instance may
 * carry. Shared by PutAttributes and by registration (the agent registers the attributes of
 * ECS_INSTANCE_ATTRIBUTES, which ECS counts as custom: ECS developer guide, "Attributes" — "You can
 * add custom attributes at instance registration time using the container agent").
 */
import { ecsErrors } from './errors';

/**
 * ECS API reference, Attribute data type: "The name must contain between 1 and 128 characters.
 * The name may contain letters (uppercase and lowercase), numbers, hyphens (-), underscores (_),
 * forward slashes (/), back slashes (\), or periods (.)."
 */
const NAME_PATTERN = /^[A-Za-z0-9\-_/\\.]{1,128}$/;
/**
 * Same page: "The value must contain between 1 and 128 characters. It can contain letters
 * (uppercase and lowercase), numbers, hyphens (-), underscores (_), periods (.), at signs (@),
 * forward slashes (/), back slashes (\), colons (:), or spaces. The value can't start or end with a space."
 */
const VALUE_PATTERN = /^[A-Za-z0-9\-_.@/\\: ]{1,128}$/;

/** ECS API reference, PutAttributes: "You can apply up to 10 custom attributes for each resource." */
export const MAX_CUSTOM_ATTRIBUTES = 10;

/**
 * Attributes ECS or its agent set, which do not count as custom: the built-in and optional `ecs.*`
 * attributes (ECS developer guide, "Attributes"), and the agent's capabilities, registered as
 * `com.amazonaws.ecs.capability.*` and `ecs.capability.*` (amazon-ecs-agent, agent/app/agent_capability.go).
 */
export function isCustomAttribute(name: string): boolean {
  return !name.startsWith('ecs.') && !name.startsWith('com.amazonaws.ecs.');
}

export function validateAttribute(name: unknown, value: unknown): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw ecsErrors.invalidParameter(`Attribute name "${String(name)}" is invalid: 1-128 letters, numbers, hyphens, underscores, forward or back slashes, or periods.`);
  }
  if (value === undefined) return;
  if (typeof value !== 'string' || !VALUE_PATTERN.test(value) || value.startsWith(' ') || value.endsWith(' ')) {
    throw ecsErrors.invalidParameter(`Attribute value "${String(value)}" of ${name} is invalid: 1-128 letters, numbers, hyphens, underscores, periods, @, forward or back slashes, colons or spaces, not starting or ending with a space.`);
  }
}

/** How many custom attributes a resource carries once `added` names are set on top of `existing` ones (a name set again replaces, it does not add). */
export function customAttributeCount(existing: Iterable<string>, added: Iterable<string>): number {
  const names = new Set<string>();
  for (const name of existing) if (isCustomAttribute(name)) names.add(name);
  for (const name of added) if (isCustomAttribute(name)) names.add(name);
  return names.size;
}

/**
 * The attributes an agent registers with (ECS_INSTANCE_ATTRIBUTES). The API reference lists no
 * quota error for RegisterContainerInstance, so more than 10 custom ones fail with
 * InvalidParameterException (one of its documented errors), which the agent treats as terminal
 * (amazon-ecs-agent, agent/app/agent.go, registerContainerInstance).
 */
export function validateRegistrationAttributes(attributes: ReadonlyArray<{ name: string; value?: string }>): void {
  for (const attribute of attributes) validateAttribute(attribute?.name, attribute?.value);
  if (customAttributeCount([], attributes.map(a => a.name)) > MAX_CUSTOM_ATTRIBUTES) {
    throw ecsErrors.invalidParameter(`You can apply up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes for each resource.`);
  }
}
