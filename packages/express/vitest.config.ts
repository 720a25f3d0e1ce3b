import { defineDlockVitestConfig } from '../../vitest.shared.js';

export default defineDlockVitestConfig();
