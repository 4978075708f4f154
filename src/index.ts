export * from './ecs-drain-hook';
export { DrainEventType } from './drain-events';
export type { OnDrainEventOptions } from './drain-events';
