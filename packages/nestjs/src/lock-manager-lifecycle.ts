import type { LockManager } from '@dlock/core';
import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  type DefaultManagerInstallation,
  installDefaultManager,
  uninstallDefaultManager,
} from './default-manager-stack.js';
import type { DlockManagerOptions } from './dlock-module-options.js';

/**
 * Ties the application's `LockManager` to the application's life: default manager for decorators
 * from module init, closed (and the previous default restored) on application shutdown.
 *
 * Why these hooks: `DlockModule` is global, and Nest initializes global modules first and shuts them
 * down last, so the default is in place before any other provider's `onModuleInit` or a scheduler's
 * `onApplicationBootstrap`, and the manager outlives every other shutdown hook (`@nestjs/schedule`
 * stops its timers in `beforeApplicationShutdown`, the HTTP server closes before
 * `onApplicationShutdown`), so nothing asks a closed manager for a lock.
 *
 * Built by a factory provider rather than constructor injection, so this package's source has no
 * decorator syntax and compiles the same under either decorator mode (see `dlock-module.ts`).
 */
export class LockManagerLifecycle implements OnModuleInit, OnApplicationShutdown {
  readonly #logger = new Logger('DlockModule');
  #installation: DefaultManagerInstallation | undefined;
  #closed = false;

  constructor(
    private readonly manager: LockManager,
    private readonly options: DlockManagerOptions,
  ) {}

  onModuleInit(): void {
    this.#installation ??= installDefaultManager(this.manager);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Close before restoring: a late call of this application then fails with "the lock manager is
    // closed" instead of borrowing the previous default, which may belong to another application.
    const closing = this.manager.close();
    if (this.#installation) uninstallDefaultManager(this.#installation);
    this.#installation = undefined;
    await closing;
    if (this.options.afterClose) {
      try {
        await this.options.afterClose();
      } catch (error) {
        this.#logger.error(
          `afterClose failed: ${error instanceof Error ? error.message : String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      }
    }
  }
}
