/**
 * The controller's decisions, as pure functions of what ECS and Auto Scaling report.
 * No AWS calls here: `controller.ts` and `reconcile.ts` read the state and ask these functions;
 * `drainer.ts` carries out the plans. Split by what is decided, and re-exported here so that
 * callers import from one place.
 */
export * from './plan';
export * from './refine';
export * from './urgency';
export * from './wake';
export * from './transitions';
export * from './diagnose';
