import { Router } from 'express';
import { RACE_STRATEGIES } from '../race/race-strategies.js';

/**
 * DEMO ONLY: `GET /` serves a page that runs the race from the browser against this server and a
 * second one (`?peer=http://127.0.0.1:<port>`), drawing each strategy's stock as it falls and the
 * lost updates at the end. Plain HTML and a script, no build step; it talks to the
 * `/race/:strategy/stocks/:productId` routes (CORS-enabled for the peer).
 *
 * @example
 * app.use(createRacePageRoutes());
 */
export function createRacePageRoutes(): Router {
  const router = Router();
  const html = racePageHtml();
  router.get('/', (_request, response) => {
    response.setHeader('Cache-Control', 'no-store');
    response.type('html').send(html);
  });
  return router;
}

const COLORS: Record<string, string> = {
  none: '#d62728',
  local: '#ff7f0e',
  mysql: '#1f77b4',
  spin: '#2ca02c',
  pubsub: '#9467bd',
};

function racePageHtml(): string {
  const options = RACE_STRATEGIES.map((strategy) => `<option value="${strategy}">${strategy}</option>`).join(
    '',
  );
  const rows = RACE_STRATEGIES.map(
    (strategy) =>
      `<tr data-strategy="${strategy}"><th scope="row"><span class="swatch" style="background:${COLORS[strategy]}"></span>${strategy}</th>` +
      '<td class="final">-</td><td class="sold">-</td><td class="failed">-</td><td class="lost">-</td><td class="verdict">not run</td></tr>',
  ).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dlock: the stock race</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 920px; color: #222; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  p.lead { margin: 0 0 16px; color: #555; }
  form { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; margin-bottom: 16px; }
  label { display: flex; flex-direction: column; font-size: 13px; color: #555; }
  input, select, button { font: inherit; padding: 4px 8px; }
  input[name=peer] { width: 260px; }
  button { cursor: pointer; }
  svg { width: 100%; height: 300px; border: 1px solid #ccc; background: #fafafa; }
  table { border-collapse: collapse; margin-top: 16px; width: 100%; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eee; }
  td.final, td.sold, td.failed, td.lost { font-variant-numeric: tabular-nums; }
  .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
  .exact { color: #2ca02c; font-weight: 600; } .wrong { color: #d62728; font-weight: 600; }
  #status { margin: 8px 0; min-height: 1.4em; color: #555; }
</style>
</head>
<body data-state="idle">
<h1>The stock race</h1>
<p class="lead">Two app servers sell the same stock at once, half the requests each. Without a shared lock the
count drifts: every request answered 200, yet the stock did not fall by as many. "Lost updates" =
200s &minus; (start &minus; final).</p>
<form id="race">
  <label>this server<input name="self" readonly></label>
  <label>second server<input name="peer" placeholder="http://127.0.0.1:3001"></label>
  <label>strategy<select name="strategy"><option value="all">all, one after the other</option>${options}</select></label>
  <label>stock<input name="stock" type="number" min="1" max="500" value="60"></label>
  <button type="submit">Run the race</button>
</form>
<div id="status" role="status"></div>
<svg id="chart" viewBox="0 0 900 300" preserveAspectRatio="none" aria-label="stock over time per strategy"></svg>
<table id="results">
  <thead><tr><th>strategy</th><th>final stock</th><th>sold (200)</th><th>failed</th><th>lost updates</th><th>verdict</th></tr></thead>
  <tbody>
${rows}
  </tbody>
</table>
<script>
'use strict';
const STRATEGIES = ${JSON.stringify(RACE_STRATEGIES)};
const COLORS = ${JSON.stringify(COLORS)};
const DLOCK = ['mysql', 'spin', 'pubsub'];
const form = document.getElementById('race');
const chart = document.getElementById('chart');
const statusLine = document.getElementById('status');
const series = {};
form.self.value = location.origin;
form.peer.value = new URLSearchParams(location.search).get('peer') || '';

function row(strategy) { return document.querySelector('tr[data-strategy="' + strategy + '"]'); }

function draw() {
  const all = Object.values(series);
  const maxT = Math.max(1000, ...all.map((s) => s.points.length ? s.points[s.points.length - 1][0] : 0));
  const maxQ = Math.max(1, ...all.map((s) => s.initial));
  chart.innerHTML = '';
  for (const [strategy, s] of Object.entries(series)) {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', COLORS[strategy]);
    line.setAttribute('stroke-width', '2');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    line.setAttribute('data-strategy', strategy);
    line.setAttribute('points', s.points.map(([t, q]) => (t / maxT * 890 + 5).toFixed(1) + ',' + (295 - q / maxQ * 290).toFixed(1)).join(' '));
    chart.appendChild(line);
  }
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  return { status: response.status, json };
}

async function race(strategy, servers, stock) {
  const path = '/race/' + strategy + '/stocks/page-' + Date.now().toString(36) + '-' + strategy;
  const seeded = await call('PUT', servers[0] + path, { quantity: stock });
  if (seeded.status !== 200) throw new Error('seeding failed: ' + seeded.status + ' ' + JSON.stringify(seeded.json));
  const s = (series[strategy] = { initial: stock, points: [[0, stock]] });
  const r = row(strategy);
  r.querySelector('.verdict').textContent = 'running';
  r.querySelector('.verdict').className = 'verdict';
  const startedAt = performance.now();
  let running = true;
  const poll = (async () => {
    while (running) {
      const current = await call('GET', servers[0] + path);
      if (current.status === 200) s.points.push([performance.now() - startedAt, current.json.quantity]);
      draw();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const statuses = await Promise.all(Array.from({ length: stock }, (_, index) =>
    call('POST', servers[index % servers.length] + path + '/decrease', {}).then((answer) => answer.status, () => 0)));
  running = false;
  await poll;
  const final = (await call('GET', servers[0] + path)).json.quantity;
  s.points.push([performance.now() - startedAt, final]);
  draw();
  const sold = statuses.filter((status) => status === 200).length;
  const lost = sold - (stock - final);
  r.querySelector('.final').textContent = String(final);
  r.querySelector('.sold').textContent = String(sold);
  r.querySelector('.failed').textContent = String(stock - sold);
  r.querySelector('.lost').textContent = String(lost);
  const exact = lost === 0 && final === stock - sold;
  const verdict = r.querySelector('.verdict');
  verdict.textContent = exact ? 'exact' : DLOCK.includes(strategy) ? 'WRONG' : 'wrong (expected)';
  verdict.className = 'verdict ' + (exact ? 'exact' : 'wrong');
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const servers = [location.origin, form.peer.value.trim().replace(/\\/+$/, '')].filter(Boolean);
  const stock = Math.max(1, Math.min(500, Number(form.stock.value) || 60));
  const chosen = form.strategy.value === 'all' ? STRATEGIES : [form.strategy.value];
  document.body.dataset.state = 'running';
  form.querySelector('button').disabled = true;
  try {
    for (const strategy of chosen) {
      statusLine.textContent = 'racing ' + strategy + ' on ' + servers.length + ' server(s)...';
      await race(strategy, servers, stock);
    }
    statusLine.textContent = 'done';
    document.body.dataset.state = 'done';
  } catch (error) {
    statusLine.textContent = 'failed: ' + error.message;
    document.body.dataset.state = 'failed';
  } finally {
    form.querySelector('button').disabled = false;
  }
});
</script>
</body>
</html>
`;
}
