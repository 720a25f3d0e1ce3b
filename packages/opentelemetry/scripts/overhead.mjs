// `pnpm --filter @dlock/opentelemetry overhead`: runs measure-overhead.mjs on the workspace sources
// (the @dlock/source condition, TypeScript through tsx), so nothing needs a build first. Not part
// of `pnpm test`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./measure-overhead.mjs', import.meta.url));
const result = spawnSync(
  process.execPath,
  [
    '--conditions=@dlock/source',
    '--import',
    'tsx',
    script,
    ...process.argv.slice(2).filter((arg) => arg !== '--'),
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
