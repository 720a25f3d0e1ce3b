import { describe } from 'vitest';
import { describeBrokenLinkScenarios } from './broken-link-scenarios.js';
import { describeDroppedLockScenario } from './dropped-lock-scenario.js';
import { createFaultFixture, type FaultScenarioOptions } from './fault-fixture.js';
import { describeFrozenHolderScenarios } from './frozen-holder-scenarios.js';
import { describeHandoffScenarios } from './handoff-scenarios.js';
import { describeSlowLinkScenario } from './slow-link-scenario.js';
import { describeUnreachableStoreScenario } from './unreachable-store-scenario.js';

/**
 * The fault scenarios of issue #10 ("every backend, through the kit"), each judged by a recorded
 * history (`HistoryRecorder` + `checkHistory`) and a fenced register, not only by "did not throw".
 * Call it in one test file per backend; scenarios that do not apply to the backend are skipped.
 *
 * @example
 * runFaultScenarios({
 *   name: 'redis-spin',
 *   backendModule: new URL('./spin-fault-backend.ts', import.meta.url),
 *   storeUrl: REDIS_URL,
 *   commandTimeoutMs: 5_000,
 * });
 */
export function runFaultScenarios(options: FaultScenarioOptions): void {
  const fixture = createFaultFixture(options);
  describe(`fault scenarios: ${options.name}`, () => {
    describeSlowLinkScenario(fixture);
    if (!fixture.store) describeDroppedLockScenario(fixture);
    if (fixture.store)
      describe('over the network', () => {
        describeFrozenHolderScenarios(fixture);
        describeBrokenLinkScenarios(fixture);
        if (options.handoff) describeHandoffScenarios(fixture, options.handoff);
        describeUnreachableStoreScenario(fixture);
      });
  });
}
