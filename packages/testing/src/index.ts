export type { FaultyLinkOptions } from './faulty-link.js';
export { FaultyLink } from './faulty-link.js';
export type { LinkDirection, LinkDropOptions, LinkLatency } from './link-faults.js';
