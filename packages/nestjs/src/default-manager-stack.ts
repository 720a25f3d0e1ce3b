import {
  getDefaultLockManager,
  InvalidLockOptionsError,
  type LockManager,
  setDefaultLockManager,
} from '@dlock/core';

/** One application's manager as the process-wide default, and the default it replaced. */
export interface DefaultManagerInstallation {
  readonly manager: LockManager;
  previous: LockManager | undefined;
}

// Process-wide, like core's default slot, so the ESM and CJS copies of this package agree.
const STACK_KEY = Symbol.for('dlock:nestjs:default-manager-stack');
const globalSlot = globalThis as { [STACK_KEY]?: DefaultManagerInstallation[] };
globalSlot[STACK_KEY] ??= [];
const installations: DefaultManagerInstallation[] = globalSlot[STACK_KEY];

/** The current default manager, or `undefined` where core would throw. */
function peekDefaultLockManager(): LockManager | undefined {
  try {
    return getDefaultLockManager();
  } catch (error) {
    if (InvalidLockOptionsError.isInstance(error)) return undefined;
    throw error;
  }
}

/** Make `manager` the default for decorators, remembering the one it replaces. */
export function installDefaultManager(manager: LockManager): DefaultManagerInstallation {
  const installation: DefaultManagerInstallation = { manager, previous: peekDefaultLockManager() };
  installations.push(installation);
  setDefaultLockManager(manager);
  return installation;
}

/**
 * Undo {@link installDefaultManager}. Applications may close in any order, so this unlinks the
 * installation like a list node: if a later application replaced it meanwhile, that one inherits
 * our predecessor (and restores it when it closes); if we are still the default, our predecessor
 * comes back now. Either way a closed manager never becomes the default again.
 */
export function uninstallDefaultManager(installation: DefaultManagerInstallation): void {
  const index = installations.indexOf(installation);
  if (index === -1) return;
  installations.splice(index, 1);
  const later = installations[index];
  if (later) {
    later.previous = installation.previous;
    return;
  }
  // Someone called setDefaultLockManager after us: their choice stands.
  if (peekDefaultLockManager() === installation.manager) setDefaultLockManager(installation.previous);
}
