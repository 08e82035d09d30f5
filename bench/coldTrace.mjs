// Where a cold start's milliseconds go: tidings and the floor, each with the trace probe
// (browser/trace-sw.js), take turns on stopped workers; prints the median of each mark on
// the worker's clock (ms since the worker started) and of the spans between them.
// `flock /tmp/build.lock node bench/coldTrace.mjs [rounds]` after `npm run build`.
import { openSession } from './chromium.mjs';
import { envelope } from './latency.mjs';
import { summarize } from './stats.mjs';

export async function coldTrace(session, rounds) {
  const contenders = [
    { name: 'tidings', scope: await session.install('tidings-trace', '/sw-tidings-trace.js') },
    { name: 'floor', scope: await session.install('floor-trace', '/sw-floor-trace.js') },
  ];
  await session.leave();
  const traces = new Map(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(round + k) % contenders.length];
      await session.stopWorkers();
      const result = await session.timePush(c.scope, envelope(`${c.name}-trace-${round}-${Date.now()}`));
      if (result?.trace) traces.get(c.name).push({ ...result.trace, total: result.ms, shown: result.trace.push + result.handledMs });
    }
  }
  const spans = {
    'worker start -> script runs': (t) => t.script,
    'bundle load + evaluation': (t) => t.evaluated - t.bundle,
    'listen()': (t) => t.listening - t.evaluated,
    'script end -> push event': (t) => t.push - (t.listening ?? t.evaluated),
    'listen() -> IndexedDB open called': (t) => t.idbOpen - t.evaluated,
    'IndexedDB open call (synchronous part)': (t) => t.idbOpenReturned - t.idbOpen,
    'IndexedDB open -> opened': (t) => t.idbOpened - t.idbOpen,
    'getAllKeys -> keys': (t) => t.keysDone - t.keys,
    'push event -> keys ready': (t) => t.keysDone - t.push,
    'push event -> showNotification called': (t) => t.showCall - t.push,
    'showNotification called -> resolved': (t) => t.shown - t.showCall,
    'push event -> shown (in-worker)': (t) => t.shown - t.push,
    'worker start -> shown': (t) => t.shown,
    'DevTools push -> report (total)': (t) => t.total,
  };
  const table = {};
  for (const [name, list] of traces) {
    table[name] = Object.fromEntries(
      Object.entries(spans).map(([span, of]) => {
        const values = list.map(of).filter((v) => Number.isFinite(v));
        return [span, values.length ? summarize(values) : null];
      }),
    );
    table[name].n = list.length;
  }
  return table;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const session = await openSession();
  try {
    const table = await coldTrace(session, Number(process.argv[2] ?? 30));
    const names = Object.keys(table);
    console.log(['span (median ms)', ...names.map((n) => `${n} (n=${table[n].n})`)].join(' | '));
    for (const span of Object.keys(table[names[0]]).filter((s) => s !== 'n')) {
      console.log([span, ...names.map((n) => table[n][span]?.median?.toFixed(2) ?? '')].join(' | '));
    }
  } finally {
    await session.close();
  }
}
