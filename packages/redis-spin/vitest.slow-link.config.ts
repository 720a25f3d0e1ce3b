import { defineSlowLinkVitestConfig } from '../../vitest.shared.js';

export default defineSlowLinkVitestConfig();
