import type { BenchResults } from './bench-results.js';
import { library } from './library-catalog.js';
import type { LibraryId } from './lock-adapter.js';
import { ResultsLookup } from './results-lookup.js';

const COLORS: Record<LibraryId, string> = {
  'dlock-pubsub': '#1565c0',
  'dlock-spin': '#2e7d32',
  'dlock-pubsub-cluster': '#4fc3f7',
  'dlock-spin-cluster': '#9ccc65',
  'dlock-mysql': '#6a1b9a',
  'dlock-memory': '#455a64',
  redlock: '#c62828',
  'redis-semaphore': '#ef6c00',
  'redis-semaphore-2ms': '#8d6e63',
  // Not charted (the chart is the one-key lock contention); here because the record is complete.
  'dlock-pubsub-semaphore': '#1565c0',
  'dlock-spin-semaphore': '#2e7d32',
  'redis-semaphore-semaphore': '#ef6c00',
};

const PANEL_WIDTH = 430;
const PANEL_HEIGHT = 250;
const MARGIN = { left: 64, right: 24, top: 44, bottom: 46 };
const TITLE_HEIGHT = 56;
/** Legend: one entry per library, wide enough for "dlock pub/sub (cluster)", rows of 20 px. */
const LEGEND_ITEM_WIDTH = 190;
const LEGEND_ROW_HEIGHT = 20;

interface Panel {
  readonly title: string;
  readonly yLabel: string;
  readonly logScale: boolean;
  readonly series: readonly { readonly id: LibraryId; readonly points: readonly [number, number][] }[];
  /** A dotted goal line, e.g. "at most 3 commands". */
  readonly goal?: { readonly value: number; readonly label: string };
}

/**
 * The chart of the results page, written by hand (no chart dependency): for each hold, Redis
 * commands sent per acquisition (log scale) and throughput, against the number of waiters, one
 * line per library.
 *
 * @example
 * await writeFile('docs/benchmarks/commands-and-throughput.svg', resultsChartSvg(results));
 */
export function resultsChartSvg(results: BenchResults): string {
  const lookup = new ResultsLookup(results);
  const libraries = lookup.contentionLibraries;
  const panels: Panel[][] = lookup.holds.map((hold) => {
    const seriesOf = (
      ids: readonly LibraryId[],
      pick: (waiters: number, id: LibraryId) => number | undefined,
    ) =>
      ids.map((id) => ({
        id,
        points: lookup.waiters.flatMap((waiters): [number, number][] => {
          const value = pick(waiters, id);
          return value === undefined || !Number.isFinite(value) ? [] : [[waiters, value]];
        }),
      }));
    return [
      {
        title: `Redis commands sent per acquisition, hold ${hold} ms`,
        yLabel: 'commands / acquisition (log)',
        logScale: true,
        series: seriesOf(
          libraries.filter((id) => library(id).store === 'redis'),
          (waiters, id) => lookup.contention(id, waiters, hold)?.sentPerAcquisition,
        ),
        goal: { value: 3, label: 'goal for pub/sub: 3' },
      },
      {
        title: `Throughput, hold ${hold} ms`,
        yLabel: 'acquisitions / s',
        logScale: false,
        series: seriesOf(libraries, (waiters, id) => lookup.contention(id, waiters, hold)?.throughputPerSec),
      },
    ];
  });

  const width = 2 * PANEL_WIDTH + 20;
  const legendRows = Math.ceil(libraries.length / legendPerRow(width));
  const height = TITLE_HEIGHT + panels.length * PANEL_HEIGHT + 16 + legendRows * LEGEND_ROW_HEIGHT + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">dlock vs redlock vs redis-semaphore: W waiters over ${results.plan.processes} processes on one key</text>`,
    `<text x="${width / 2}" y="43" text-anchor="middle" fill="#555">${escapeXml(`${results.machine.cpus} CPUs ${results.machine.cpuModel}, Node ${results.machine.node}, ${results.machine.date.slice(0, 10)} (${results.plan.mode} run)`)}</text>`,
  ];
  panels.forEach((row, rowIndex) => {
    row.forEach((panel, columnIndex) => {
      parts.push(
        renderPanel(
          panel,
          lookup.waiters,
          10 + columnIndex * PANEL_WIDTH,
          TITLE_HEIGHT + rowIndex * PANEL_HEIGHT,
        ),
      );
    });
  });
  parts.push(renderLegend(libraries, width, TITLE_HEIGHT + panels.length * PANEL_HEIGHT + 16));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function renderPanel(panel: Panel, waiters: readonly number[], left: number, top: number): string {
  const plotLeft = left + MARGIN.left;
  const plotTop = top + MARGIN.top;
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = panel.series.flatMap((series) => series.points.map(([, value]) => value));
  if (panel.goal) values.push(panel.goal.value);
  const maxValue = Math.max(1, ...values);
  const ticks = panel.logScale ? logTicks(maxValue) : linearTicks(maxValue);
  const top_ = ticks.at(-1)!;
  const bottom = panel.logScale ? ticks[0]! : 0;
  const y = (value: number) => {
    const share = panel.logScale
      ? (Math.log10(Math.max(value, bottom)) - Math.log10(bottom)) / (Math.log10(top_) - Math.log10(bottom))
      : (value - bottom) / (top_ - bottom);
    return plotTop + plotHeight - share * plotHeight;
  };
  // Waiter counts grow geometrically (4, 16, 64): equal spacing per step.
  const x = (count: number) => {
    const index = waiters.indexOf(count);
    return waiters.length === 1
      ? plotLeft + plotWidth / 2
      : plotLeft + (index / (waiters.length - 1)) * plotWidth;
  };
  const parts: string[] = [
    `<g>`,
    `<text x="${left + PANEL_WIDTH / 2}" y="${top + 22}" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(panel.title)}</text>`,
    `<rect x="${plotLeft}" y="${plotTop}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`,
  ];
  for (const tick of ticks) {
    const tickY = y(tick).toFixed(1);
    parts.push(
      `<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${tickY}" y2="${tickY}" stroke="#e5e5e5"/>`,
      `<text x="${plotLeft - 6}" y="${tickY}" dy="4" text-anchor="end" fill="#444">${formatTick(tick)}</text>`,
    );
  }
  for (const count of waiters) {
    parts.push(
      `<text x="${x(count).toFixed(1)}" y="${plotTop + plotHeight + 16}" text-anchor="middle" fill="#444">${count}</text>`,
    );
  }
  parts.push(
    `<text x="${plotLeft + plotWidth / 2}" y="${plotTop + plotHeight + 34}" text-anchor="middle" fill="#444">waiters (W)</text>`,
    `<text transform="translate(${left + 16} ${plotTop + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#444">${escapeXml(panel.yLabel)}</text>`,
  );
  if (panel.goal) {
    const goalY = y(panel.goal.value).toFixed(1);
    parts.push(
      `<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${goalY}" y2="${goalY}" stroke="#1565c0" stroke-dasharray="2 3" opacity="0.7"/>`,
      `<text x="${plotLeft + plotWidth - 4}" y="${goalY}" dy="-4" text-anchor="end" fill="#1565c0" font-size="11">${escapeXml(panel.goal.label)}</text>`,
    );
  }
  for (const series of panel.series) {
    if (series.points.length === 0) continue;
    const descriptor = library(series.id);
    const isDlock = descriptor.family === 'dlock';
    const path = series.points
      .map(([count, value]) => `${x(count).toFixed(1)},${y(value).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${COLORS[series.id]}" stroke-width="${isDlock ? 3 : 2}"${isDlock ? '' : ' stroke-dasharray="6 4"'}/>`,
    );
    for (const [count, value] of series.points) {
      parts.push(
        `<circle cx="${x(count).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3.5" fill="${COLORS[series.id]}"><title>${escapeXml(`${descriptor.label}, W=${count}: ${formatTick(value)}`)}</title></circle>`,
      );
    }
  }
  parts.push('</g>');
  return parts.join('\n');
}

function renderLegend(libraries: readonly LibraryId[], width: number, top: number): string {
  const perRow = legendPerRow(width);
  return libraries
    .map((id, index) => {
      const descriptor = library(id);
      const left = 20 + (index % perRow) * LEGEND_ITEM_WIDTH;
      const rowTop = top + Math.floor(index / perRow) * LEGEND_ROW_HEIGHT;
      const dash = descriptor.family === 'dlock' ? '' : ' stroke-dasharray="6 4"';
      return [
        `<line x1="${left}" x2="${left + 28}" y1="${rowTop}" y2="${rowTop}" stroke="${COLORS[id]}" stroke-width="${descriptor.family === 'dlock' ? 3 : 2}"${dash}/>`,
        `<text x="${left + 34}" y="${rowTop + 4}">${escapeXml(descriptor.label)}</text>`,
      ].join('\n');
    })
    .join('\n');
}

function legendPerRow(width: number): number {
  return Math.max(1, Math.floor((width - 40) / LEGEND_ITEM_WIDTH));
}

/** 1, 2, 5, 10, 20, 50 ... up to the first tick at or above `max`. */
function logTicks(max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 1; ; decade *= 10) {
    for (const step of [1, 2, 5]) {
      ticks.push(step * decade);
      if (step * decade >= max) return ticks;
    }
  }
}

/** About five round ticks from 0 to the first one at or above `max`. */
function linearTicks(max: number): number[] {
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10]
    .map((factor) => factor * magnitude)
    .find((candidate) => candidate >= rough)!;
  const ticks: number[] = [];
  for (let tick = 0; ticks.at(-1) === undefined || ticks.at(-1)! < max; tick += step) ticks.push(tick);
  return ticks;
}

function formatTick(value: number): string {
  if (value >= 1000) return `${Math.round(value / 100) / 10}k`.replace('.0k', 'k');
  if (value >= 10 || Number.isInteger(value)) return String(Math.round(value));
  return value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[char]!,
  );
}
