/**
 * Why drains wait, for the reconcile pass: the drains that have waited longer than a drain
 * normally takes (decide/, diagnosisDue) get their tasks and services read, and each is diagnosed
 * (decide/, diagnoseWait). A drain whose causes changed since its last announcement gets them in
 * its record (`waits:`), then an "ECS Drain Waiting" event; every diagnosis is logged. None of this
 * ever changes a drain: it runs after the pass's drain work, with the time left, and a read or
 * write that fails only leaves the diagnosis for a later pass.
 *
 * Drains that go back to a warm pool are not diagnosed: their registration's attribute becomes
 * the parked marker when they end, and ECS has no conditional write, so a diagnosis writing the
 * record in that moment could erase the marker.
 */
import { ClusterApi } from './aws';
import type { ControllerConfig } from './config';
import {
  causesMask, diagnoseWait, diagnosisDue, isDrainable, keepsRegistration, maskBlocked, planTermination, serviceOf, WAIT_STATES, waitingTransition,
  WaitReason,
} from './decide';
import { drainEvent, DrainEventEntry } from './drain-events';
import { formatDrainRecord } from './drain-record';
import { publishDrainEvents } from './drainer';
import { isAbort } from './errors';
import { InstanceView, ServiceView } from './model';
import { Telemetry } from './telemetry';
import { METRIC } from '../src/constants';

/** Drains diagnosed in one pass at most (the least recently diagnosed first): each costs about three ECS reads. */
export const MAX_DIAGNOSES_PER_PASS = 50;

/** When this environment last diagnosed each drain (lives with PassMemory). */
export class DiagnosisMemory {
  private readonly diagnosedAt = new Map<string, number>();

  lastDiagnosed(instanceId: string): number | undefined {
    return this.diagnosedAt.get(instanceId);
  }

  diagnosed(instanceId: string, at: number): void {
    this.diagnosedAt.set(instanceId, at);
  }

  /** Forgets drains that no longer wait. */
  keepOnly(instanceIds: ReadonlySet<string>): void {
    for (const id of [...this.diagnosedAt.keys()]) if (!instanceIds.has(id)) this.diagnosedAt.delete(id);
  }
}

/** A drain's start, from its records (undefined: not recorded). */
function startOf(view: InstanceView): number | undefined {
  const starts = view.containerInstances.flatMap(ci => ci.record === undefined ? [] : [ci.record.startedAt]);
  return starts.length > 0 ? Math.min(...starts) : undefined;
}

/** The causes the drain's records kept (every registration of one drain keeps the same). */
function recordedWaits(view: InstanceView): number | undefined {
  return view.containerInstances.find(ci => ci.record?.waits !== undefined)?.record?.waits;
}

export class WaitDiagnosis {
  constructor(
    private readonly config: ControllerConfig,
    private readonly telemetry: Telemetry,
    private readonly now: () => number,
    private readonly memory: DiagnosisMemory,
    private readonly stoppedTasks: Set<string>,
  ) {}

  /**
   * Diagnoses the due ones among `quiet` (recorded drains that only wait, as this pass read them),
   * and publishes DrainsBlocked: how many of `recorded` (every recorded drain waiting in the hook)
   * wait for a cause that will not resolve itself, by this diagnosis or the one their record kept.
   */
  async run(api: ClusterApi, quiet: readonly InstanceView[], recorded: readonly InstanceView[]): Promise<void> {
    const now = this.now();
    const afterMs = this.config.diagnoseDrainsAfterSeconds * 1000;
    this.memory.keepOnly(new Set(recorded.map(v => v.instanceId)));
    const due = quiet
      .filter(v => {
        const destination = v.lifecycleState === undefined ? undefined : WAIT_STATES[v.lifecycleState];
        const started = startOf(v);
        return destination !== undefined && !keepsRegistration(destination) && started !== undefined
          && diagnosisDue(started, this.memory.lastDiagnosed(v.instanceId), now, afterMs);
      })
      .sort((a, b) => (this.memory.lastDiagnosed(a.instanceId) ?? -Infinity) - (this.memory.lastDiagnosed(b.instanceId) ?? -Infinity)
        || startOf(a)! - startOf(b)!)
      .slice(0, MAX_DIAGNOSES_PER_PASS);
    const blockedNow = new Map<string, boolean>();
    try {
      if (due.length > 0) {
        const diagnoses = await this.diagnose(api, due, now);
        for (const [id, reasons] of diagnoses) blockedNow.set(id, reasons.some(r => !r.resolvesItself));
      }
    } catch (error) {
      if (!isAbort(error)) {
        this.telemetry.log('warn', 'could not read why drains wait; a later pass tries again', { error: (error as Error).message });
      }
    }
    const blocked = recorded.filter(v => blockedNow.get(v.instanceId) ?? maskBlocked(recordedWaits(v))).length;
    this.telemetry.metric(METRIC.DRAINS_BLOCKED, blocked);
  }

  private async diagnose(api: ClusterApi, due: readonly InstanceView[], now: number): Promise<Map<string, WaitReason[]>> {
    const registrations = due.flatMap(v => v.containerInstances.filter(isDrainable).map(ci => ci.containerInstanceArn));
    const tasks = await api.tasksLeftOn(registrations, this.stoppedTasks);
    const names = [...tasks.values()].flat().map(serviceOf).filter((n): n is string => n !== undefined);
    const services: Map<string, ServiceView> = names.length > 0 ? await api.services(names) : new Map();

    const result = new Map<string, WaitReason[]>();
    const changed: { view: InstanceView; reasons: WaitReason[]; waits: number; before?: number }[] = [];
    for (const view of due) {
      this.memory.diagnosed(view.instanceId, now);
      const read: InstanceView = {
        ...view,
        containerInstances: view.containerInstances.map(ci => (tasks.has(ci.containerInstanceArn)
          ? { ...ci, tasksNotStopped: tasks.get(ci.containerInstanceArn) } : ci)),
      };
      const reasons = diagnoseWait(read.containerInstances, services, startOf(view)!);
      result.set(view.instanceId, reasons);
      const waits = causesMask(reasons.map(r => r.cause));
      const recorded = recordedWaits(view);
      this.telemetry.log('info', 'drain waits', {
        instanceId: view.instanceId, groupName: view.groupName, blocked: reasons.some(r => !r.resolvesItself), reasons: reasons.map(r => r.text),
      });
      if (waits !== recorded) changed.push({ view: read, reasons, waits, before: recorded });
    }
    // The record keeps the causes announced; deadline, start and hook clock are written as read.
    // A heartbeat written meanwhile by another run may be overwritten with the older hook clock:
    // the next heartbeat then comes early, never late.
    const writes = changed.flatMap(({ view, waits }) => view.containerInstances
      .filter(ci => ci.record !== undefined)
      .map(ci => ({ containerInstanceArn: ci.containerInstanceArn, value: formatDrainRecord({ ...ci.record!, waits }) })));
    const errors = writes.length > 0 ? await api.putDrainAttributes(writes) : new Map();
    const entries: DrainEventEntry[] = [];
    for (const { view, reasons, waits, before } of changed) {
      const written = view.containerInstances.filter(ci => ci.record !== undefined).every(ci => !errors.has(ci.containerInstanceArn));
      const transition = waitingTransition({ recordedWaits: before, waits, written });
      if (transition === undefined) continue;
      const announced: InstanceView = {
        ...view, containerInstances: view.containerInstances.map(ci => (ci.record ? { ...ci, record: { ...ci.record, waits } } : ci)),
      };
      entries.push(drainEvent(transition, announced, planTermination(announced, now, this.config), this.config, now, reasons));
    }
    await publishDrainEvents(api, this.telemetry, entries);
    return result;
  }
}
