import { setTimeout as sleep } from 'node:timers/promises';
import { DistributedLock } from '@dlock/core';
import { Controller, Param, Post } from '@nestjs/common';
import { replicaName } from '../replica-name.js';

/** How long a recount takes; long enough to race it by hand. */
const RECOUNT_MS = Number(process.env.RECOUNT_MS ?? 2_000);

export interface RecountResult {
  readonly sku: string;
  readonly countedBy: string;
}

/**
 * A recount of one SKU must not overlap another recount of it on any replica. A second request
 * while one runs answers 409 (LockErrorFilter, installed by DlockModule's `errorFilter: true`).
 */
@Controller('inventory')
export class InventoryController {
  @Post(':sku/recount')
  @DistributedLock({ key: 'inventory:{0}' })
  async recount(@Param('sku') sku: string): Promise<RecountResult> {
    await sleep(RECOUNT_MS);
    return { sku, countedBy: replicaName };
  }
}
