import { SeededRandom } from './random';

/** The EventBridge envelope every event the emulated world emits is wrapped in (see shared/events/). */
export interface EmittedEvent {
  'version': '0';
  'id': string;
  'detail-type': string;
  'source': string;
  'account': string;
  'time': string;
  'region': string;
  'resources': string[];
  'detail': Record<string, unknown>;
}

export type EventListener = (event: EmittedEvent) => void;

export class EventFactory {
  constructor(
    private readonly random: SeededRandom,
    private readonly account: string,
    private readonly region: string,
    private readonly now: () => number,
  ) {}

  create(detailType: string, source: string, resources: string[], detail: Record<string, unknown>): EmittedEvent {
    return {
      'version': '0',
      'id': this.random.uuid(),
      'detail-type': detailType,
      source,
      'account': this.account,
      // EventBridge `time` has second precision ("2026-11-28T10:00:00Z" in the samples).
      'time': new Date(Math.floor(this.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      'region': this.region,
      resources,
      detail,
    };
  }
}
