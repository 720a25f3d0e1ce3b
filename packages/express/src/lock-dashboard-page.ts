/** What the page needs from the router: where it is mounted and what it shows. */
export interface LockPageSettings {
  readonly title: string;
  /** The router's mount path (`request.baseUrl`), so the page finds its stream wherever it is mounted. */
  readonly baseUrl: string;
  readonly prefix: string;
  readonly allowRelease: boolean;
  readonly refreshMs: number;
}

/** JSON for a `<script>` block: `<` escaped, so no value can close the script element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The page: one HTML document with its own CSS and script (no assets, no framework). The script
 * listens to `<baseUrl>/events` and redraws the table; countdowns tick locally between updates.
 * Every value is inserted with `textContent`, never as HTML.
 *
 * @example
 * response.type('html').send(renderLockPage({ title: 'locks', baseUrl: '/locks', prefix: '', allowRelease: false, refreshMs: 1000 }));
 */
export function renderLockPage(settings: LockPageSettings): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(settings.title)}</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fafbfc; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .meta { color: #5b6475; margin-bottom: 16px; }
  .status { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e3e7ee; }
  body[data-state=live] .status { background: #d3f3dc; color: #135c2a; }
  body[data-state=error] .status, body[data-state=reconnecting] .status { background: #fde2e1; color: #8a1c17; }
  table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 2px #0001; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e6e9ef; white-space: nowrap; }
  th { background: #f0f2f6; font-weight: 600; }
  td.key { font-family: ui-monospace, monospace; font-weight: 600; }
  td.lease.low { color: #b3261e; font-weight: 600; }
  td.waiters.busy { color: #9a5b00; font-weight: 600; }
  .empty { color: #5b6475; padding: 16px 10px; }
  .error { color: #b3261e; margin: 8px 0; }
</style>
</head>
<body data-state="connecting">
<h1>${escapeHtml(settings.title)}</h1>
<div class="meta">
  <span class="status" id="status">connecting</span>
  keys starting with <code id="prefix"></code> · updated <span id="updated">never</span>
  · <span id="count">0</span> held<span id="truncated"></span>
</div>
<div class="error" id="error" hidden></div>
<table>
  <thead><tr>
    <th>Key</th><th>Owner</th><th>Method</th><th>Held for</th><th>Lease left</th><th>Waiters</th><th>Fencing token</th>${settings.allowRelease ? '<th></th>' : ''}
  </tr></thead>
  <tbody id="locks"></tbody>
</table>
<div class="empty" id="empty" hidden>No locks held.</div>
<script>
const settings = ${scriptJson(settings)};
let snapshot = { locks: [], readAt: Date.now() };
let receivedAt = Date.now();
const $ = (id) => document.getElementById(id);
$('prefix').textContent = settings.prefix === '' ? '(any)' : settings.prefix;

function seconds(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '-';
  return ms < 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 1000) + ' s';
}
function ownerText(owner) {
  if (!owner) return 'unknown';
  const parts = [];
  if (owner.appName) parts.push(owner.appName);
  if (owner.pid !== undefined) parts.push('pid ' + owner.pid);
  if (owner.host) parts.push('on ' + owner.host);
  if (owner.session) parts.push('session ' + owner.session.connectionId);
  return parts.length ? parts.join(' ') : 'unknown';
}
function cell(row, name, text) {
  const td = document.createElement('td');
  td.className = name;
  td.textContent = text;
  row.appendChild(td);
  return td;
}
function draw() {
  const elapsed = Date.now() - receivedAt;
  const body = $('locks');
  body.replaceChildren();
  for (const lock of snapshot.locks) {
    const row = document.createElement('tr');
    row.dataset.key = lock.key;
    cell(row, 'key', lock.key);
    cell(row, 'owner', ownerText(lock.owner));
    cell(row, 'label', (lock.owner && lock.owner.label) || '-');
    const acquiredAt = lock.owner && lock.owner.acquiredAt;
    cell(row, 'held-for', acquiredAt ? seconds(snapshot.readAt - acquiredAt + elapsed) : '-');
    const left = lock.leaseRemainingMs === null ? null : Math.max(0, lock.leaseRemainingMs - elapsed);
    const lease = cell(row, 'lease', left === null ? 'kept by holder' : seconds(left));
    if (left !== null && left < 1000) lease.classList.add('low');
    const waiters = cell(row, 'waiters', lock.waiters === null ? '-' : String(lock.waiters));
    if (lock.waiters > 0) waiters.classList.add('busy');
    cell(row, 'fence', lock.fencingToken === null ? '-' : String(lock.fencingToken));
    if (settings.allowRelease) {
      const td = cell(row, 'actions', '');
      const button = document.createElement('button');
      button.textContent = 'force release';
      button.onclick = () => release(lock.key);
      td.appendChild(button);
    }
    body.appendChild(row);
  }
  $('empty').hidden = snapshot.locks.length > 0;
  $('count').textContent = String(snapshot.locks.length);
  $('truncated').textContent = snapshot.truncated ? ' (list cut at its limit)' : '';
  $('error').hidden = !snapshot.error;
  $('error').textContent = snapshot.error ? 'Cannot read the locks: ' + snapshot.error : '';
}
async function release(key) {
  if (!confirm('Force-release "' + key + '"? Its holder keeps running until its next renewal fails.')) return;
  const response = await fetch(settings.baseUrl + '/release?key=' + encodeURIComponent(key), {
    method: 'POST', headers: { 'X-Dlock-Release': key },
  });
  if (!response.ok) alert('Release failed: ' + response.status);
}
function setState(state) {
  document.body.dataset.state = state;
  $('status').textContent = state;
}
const events = new EventSource(settings.baseUrl + '/events');
events.onmessage = (message) => {
  snapshot = JSON.parse(message.data);
  receivedAt = Date.now();
  $('updated').textContent = new Date(snapshot.readAt).toLocaleTimeString();
  setState(snapshot.error ? 'error' : 'live');
  draw();
};
events.onerror = () => setState('reconnecting');
setInterval(draw, 250);
draw();
</script>
</body>
</html>
`;
}
