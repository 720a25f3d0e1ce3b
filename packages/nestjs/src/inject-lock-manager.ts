import { LockManager } from '@dlock/core';
import { Inject } from '@nestjs/common';

/**
 * Inject the application's `LockManager` (the one `DlockModule` built). The same as
 * `@Inject(LockManager)`; an explicit token, so it works where no `design:paramtypes` metadata is
 * emitted (esbuild, tsx, vitest, swc without decorator metadata).
 *
 * @example
 * @Injectable()
 * export class ReportJob {
 *   constructor(@InjectLockManager() private readonly locks: LockManager) {}
 *
 *   @Cron(CronExpression.EVERY_MINUTE)
 *   async run(): Promise<void> {
 *     await this.locks.tryWithLock('job:report', { holdAtLeastMs: 50_000 }, () => this.buildReport());
 *   }
 * }
 */
export function InjectLockManager(): PropertyDecorator & ParameterDecorator {
  return Inject(LockManager);
}
