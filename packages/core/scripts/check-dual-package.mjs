// Loads the built ESM and CJS copies side by side, as an app mixing `import` and `require` would,
// and checks they agree: errors are recognized across copies, and the default manager and the
// async lock context are shared.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const esm = await import('../dist/index.js');
const cjs = require('../dist/index.cjs');
assert.notEqual(esm.LockManager, cjs.LockManager, 'expected two distinct copies');

const error = new cjs.LockTimeoutError('k', 'memory', 10);
assert.ok(esm.LockError.isInstance(error), 'LockError.isInstance must see errors of the other copy');
assert.ok(esm.LockTimeoutError.isInstance(error));
assert.ok(!esm.LockNotAcquiredError.isInstance(error));

const manager = new esm.LockManager({ backends: { memory: new esm.MemoryLockBackend() } });
esm.setDefaultLockManager(manager);
assert.equal(cjs.getDefaultLockManager(), manager, 'the default manager must be shared');

await manager.withLock('dual', {}, async () => {
  assert.equal(cjs.currentLock()?.key, 'dual', 'the lock context must be shared');
});
await manager.close();
console.log('dual package check: ESM and CJS builds agree');
