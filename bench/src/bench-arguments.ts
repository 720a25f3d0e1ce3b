import { type BenchPlan, benchPlan } from './bench-plan.js';
import type { LibraryId } from './lock-adapter.js';

/**
 * The plan after the development flags: `--quick`, `--libraries=a,b` (every scenario keeps only
 * these), `--waiters=4,16`, `--holds=0,5`, `--no-network`, `--no-scale`, `--no-semaphore`,
 * `--no-write`.
 *
 * @example
 * const { plan, write } = planFromArguments(process.argv.slice(2));
 */
export function planFromArguments(argv: readonly string[]): { plan: BenchPlan; write: boolean } {
  let plan = benchPlan(argv.includes('--quick') ? 'quick' : 'full');
  const list = (name: string) => flagValue(argv, name)?.split(',');
  const libraries = list('libraries') as LibraryId[] | undefined;
  const waiters = list('waiters')?.map(Number);
  const holds = list('holds')?.map(Number);
  if (libraries) {
    const keep = (ids: readonly LibraryId[]) => ids.filter((id) => libraries.includes(id));
    plan = {
      ...plan,
      contentionLibraries: keep(plan.contentionLibraries),
      uncontended: { ...plan.uncontended, libraries: keep(plan.uncontended.libraries) },
      network: { ...plan.network, libraries: keep(plan.network.libraries) },
      scale: { ...plan.scale, libraries: keep(plan.scale.libraries) },
      semaphore: { ...plan.semaphore, libraries: keep(plan.semaphore.libraries) },
    };
  }
  if (argv.includes('--no-network')) plan = { ...plan, network: { ...plan.network, libraries: [] } };
  if (argv.includes('--no-scale')) plan = { ...plan, scale: { ...plan.scale, libraries: [] } };
  if (argv.includes('--no-semaphore')) plan = { ...plan, semaphore: { ...plan.semaphore, libraries: [] } };
  if (waiters) plan = { ...plan, waiters };
  if (holds) plan = { ...plan, holdsMs: holds };
  return { plan, write: !argv.includes('--no-write') };
}

/**
 * The value of `--name=value`, if given.
 *
 * @example
 * flagValue(process.argv, 'save-json'); // 'results.json' for --save-json=results.json
 */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  return argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);
}
