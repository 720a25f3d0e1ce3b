export type { CliCommand } from './cli-args.js';
export { CliUsageError, parseCliArgs, USAGE } from './cli-args.js';
export type { CliLocks } from './cli-backends.js';
export { openCliLocks } from './cli-backends.js';
export { describeOwner, formatInspection, formatList, formatRelease, inspectionJson } from './cli-format.js';
export type { CliIo } from './run-cli.js';
export { runCli } from './run-cli.js';
