/**
 * Shared by the e2e tests: synthesizes the example app (test/integ.drain-hook.ts) in-process into
 * a temporary cloud assembly, as `cdk synth` would, and runs a simulation on it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Simulation, SimulationOptions } from '../../sim/runtime/simulation';
import { buildExampleApp, ExampleStackProps } from '../integ.drain-hook';

/** Synthesizes the example app with `props` into a fresh temporary directory; returns it. */
export function synthesizeExample(props: ExampleStackProps = {}): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'drain-hook-e2e-'));
  buildExampleApp(outdir, props).synth();
  return outdir;
}

/** Starts a simulation on `assemblyDirectory`, runs `body`, and always tears it down. */
export async function withSimulation<T>(
  assemblyDirectory: string,
  options: Omit<SimulationOptions, 'assemblyDirectory'>,
  body: (sim: Simulation) => Promise<T>,
): Promise<T> {
  const sim = await Simulation.start({ assemblyDirectory, ...options });
  try {
    return await body(sim);
  } finally {
    sim.stop();
  }
}
