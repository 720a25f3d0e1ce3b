import { hostname } from 'node:os';

/** How this process names itself in logs: `REPLICA`, or host and pid. */
export const replicaName = process.env.REPLICA ?? `${hostname()}:${process.pid}`;
