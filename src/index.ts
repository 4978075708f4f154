export * from './ecs-drain-hook';
