import { commandArgs } from '../../sim/cli';

test('the -- that `npx projen <task> -- --option value` passes on is not an argument of the command', () => {
  expect(commandArgs(['--', '--seeds', '5', '--scenario', 'lost-events'])).toEqual(['--seeds', '5', '--scenario', 'lost-events']);
  expect(commandArgs(['--instances', '50'])).toEqual(['--instances', '50']);
});
