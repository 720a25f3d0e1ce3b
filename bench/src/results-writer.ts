import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchResults } from './bench-results.js';
import { resultsChartSvg } from './results-chart-svg.js';
import { CHART_FILE, resultsMarkdown } from './results-markdown.js';

/** `docs/benchmarks/` at the repository root. */
const OUTPUT_DIR = fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url));

/**
 * Render the results page and the chart; write both to `docs/benchmarks/` unless `write` is false.
 *
 * @example
 * const { markdown } = await writeResults(results, true);
 */
export async function writeResults(
  results: BenchResults,
  write: boolean,
): Promise<{ readonly markdown: string; readonly directory: string | undefined }> {
  const markdown = resultsMarkdown(results);
  if (!write) return { markdown, directory: undefined };
  await mkdir(OUTPUT_DIR, { recursive: true });
  await writeFile(`${OUTPUT_DIR}results.md`, markdown);
  await writeFile(`${OUTPUT_DIR}${CHART_FILE}`, resultsChartSvg(results));
  return { markdown, directory: OUTPUT_DIR };
}
