import { DistributedLock } from '@dlock/core';
import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { replicaName } from '../replica-name.js';

/**
 * A job every replica schedules and exactly one runs per tick: the others find `job:digest` taken
 * and skip. The lock stays held 4 s after the run started (holdAtLeastMs), so a replica whose timer
 * fires late, or whose clock runs a little behind, still finds it taken instead of running the same
 * tick a second time.
 */
@Injectable()
export class DigestJob {
  readonly #logger = new Logger(DigestJob.name);

  @Cron(CronExpression.EVERY_5_SECONDS)
  @DistributedLock({ key: 'job:digest', onLocked: 'skip', holdAtLeastMs: 4_000 })
  async buildDigest(): Promise<void> {
    const tick = new Date(Math.round(Date.now() / 1000) * 1000).toISOString();
    this.#logger.log(`digest for ${tick} built by ${replicaName}`);
  }
}
