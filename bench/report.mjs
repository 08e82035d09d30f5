// Turns a run's results into the budget verdicts and the markdown of bench/results/latest.md.

const kb = (bytes) => (bytes == null ? '' : `${(bytes / 1024).toFixed(2)} KB`);
const ms = (n) => (n == null ? '' : `${n.toFixed(2)} ms`);
const x = (n) => (n == null ? '' : `${n.toFixed(2)} x`);
const pendingOf = (part) => part?.pending ?? (part?.error ? `failed: ${part.error.split('\n')[0]}` : null);

/** DESIGN.md's budgets, each met, missed, or pending with the reason. */
export function budgetChecks(results) {
  const size = (file) => (Array.isArray(results.size) ? results.size.find((row) => row.name === 'tidings IIFE' && row.side === file) : null);
  const check = (figure, budget, value, ok, pending) => ({
    figure,
    budget,
    value,
    verdict: pending ? (value === null ? 'elsewhere' : 'pending') : ok ? 'met' : 'missed',
    ...(pending ? { pending } : {}),
  });
  const page = size('page');
  const worker = size('worker');
  const push = results.push?.tidings;
  const cold = results.coldStart?.tidings;
  const firebaseCold = results.coldStart?.firebase;
  const tagless = results.burst?.['tidings, no tag'];
  return [
    check('page IIFE, brotli', '<= 3 KB', kb(page?.brotli), page?.withinBudget, page?.pending ?? (page ? null : 'not measured')),
    check('worker IIFE, brotli', '<= 8 KB', kb(worker?.brotli), worker?.withinBudget, worker?.pending ?? (worker ? null : 'not measured')),
    check('push -> shown, median', '<= 1.15 x floor', x(push?.ratio), push?.ratio <= 1.15, pendingOf(results.push)),
    check('cold start + first push, median', '<= 1.25 x floor', x(cold?.ratio), cold?.ratio <= 1.25, pendingOf(results.coldStart)),
    check(
      'cold start + first push, the aim',
      `<= Firebase's ratio (${x(firebaseCold?.ratio)})`,
      x(cold?.ratio),
      cold?.ratio <= firebaseCold?.ratio,
      pendingOf(results.coldStart),
    ),
    check(
      `${tagless?.pushes ?? 500} pushes back to back`,
      'all shown, 0 events lost, analytics <= ceil(2 x n / 20) requests',
      tagless ? `${tagless.shown} shown, ${tagless.eventsLost ?? '?'} lost, ${tagless.analyticsRequests} requests` : '',
      tagless && tagless.shown === tagless.pushes && tagless.eventsLost === 0 && tagless.analyticsRequests <= tagless.analyticsBudget,
      pendingOf(results.burst) ?? tagless?.pending,
    ),
    check('repeat page load, already registered', '0 requests', null, false, 'a test, not a timing: the page SDK e2e suite pins it'),
  ];
}

function sizeTable(rows) {
  if (!Array.isArray(rows)) return `Size: ${pendingOf(rows)}\n`;
  const lines = ['| side | what a site ships | minified | gzip | brotli |', '|---|---|---:|---:|---:|'];
  for (const row of rows) {
    if (row.pending) lines.push(`| ${row.side} | ${row.name} | pending: ${row.pending} | | |`);
    else lines.push(`| ${row.side} | ${row.name} | ${kb(row.min)} | ${kb(row.gzip)} | ${kb(row.brotli)} |`);
  }
  return lines.join('\n');
}

function timingTable(title, rows, baseline) {
  if (!rows || pendingOf(rows)) return `**${title}**: ${pendingOf(rows) ?? 'not run'}`;
  const lines = [
    `**${title}** (ratios against ${baseline}, same run)`,
    '',
    '| worker | n | median | p95 | ratio | in-worker median | in-worker ratio | lost |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, row] of Object.entries(rows)) {
    if (!row?.total) continue;
    lines.push(
      `| ${name} | ${row.total.n} | ${ms(row.total.median)} | ${ms(row.total.p95)} | ${x(row.ratio)} | ${ms(row.handled.median)} | ${x(row.handledRatio)} | ${row.lost} |`,
    );
  }
  return lines.join('\n');
}

function burstTable(rows) {
  if (pendingOf(rows)) return `**Burst**: ${pendingOf(rows)}`;
  const lines = [
    '**Burst** (pushes sent at once)',
    '',
    '| worker | pushes | shown | all shown after | ratio | visible after | analytics requests (budget) | events lost |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, row] of Object.entries(rows)) {
    const analytics = row.analyticsBudget ? `${row.analyticsRequests} (<= ${row.analyticsBudget})` : '';
    const lost = row.pending ? 'pending' : (row.eventsLost ?? '');
    lines.push(`| ${name} | ${row.pushes} | ${row.shown} | ${row.ms ?? ''} ms | ${x(row.ratio)} | ${row.visible} | ${analytics} | ${lost} |`);
  }
  return lines.join('\n');
}

function fanoutTable(part) {
  if (pendingOf(part)) return `**Server fan-out**: ${pendingOf(part)}`;
  const lines = ['**Server fan-out** (bench/fanout.mjs)', ''];
  for (const run of part.runs) {
    if (run.skipped) lines.push(`- ${run.subscribers} subscribers: skipped, ${run.skipped}`);
    else if (run.result) {
      lines.push(`${run.subscribers} subscribers (${run.seconds} s in all):`, '');
      lines.push('| sender | delivered | time | messages/s | peak RSS | RSS over idle |', '|---|---:|---:|---:|---:|---:|');
      const mb = (bytes) => `${Math.round(bytes / 1048576)} MB`;
      for (const r of run.result.results ?? []) {
        lines.push(`| ${r.name} | ${r.delivered} | ${r.ms} ms | ${r.messagesPerSecond} | ${mb(r.peakRssBytes)} | ${mb(r.rssOverIdleBytes)} |`);
      }
      lines.push('');
    }
    // fanout.mjs prints its own markdown table: keep it as it is.
    else lines.push(`- ${run.subscribers} subscribers: ${run.seconds} s, exit ${run.exitCode}`, '', run.output ?? '', '');
  }
  return lines.join('\n');
}

/** The short markdown summary of one run. */
export function markdown(results) {
  const m = results.machine;
  const sealed = results.sealed;
  const sealedLine =
    pendingOf(sealed) != null
      ? `**Sealed**: pending: ${pendingOf(sealed)}`
      : `${timingTable('Sealed vs plain envelope, tidings worker', { plain: sealed.plain, sealed: sealed.sealed }, 'plain')}\n\nOpening cost: ${ms(sealed.openingCostMs)} a message (in-worker medians).`;
  return [
    '# tidings bench',
    '',
    `${results.date}, commit ${results.commit}; ${m.cores} cores (${m.cpu}), Node ${m.node}, Chromium ${m.chromium}; ${results.seconds} s.`,
    'Timings are ratios against baselines measured in the same run; absolute figures move with the machine\'s load.',
    '',
    '## Budgets (DESIGN.md)',
    '',
    '| figure | budget | today | verdict |',
    '|---|---|---|---|',
    ...results.budgets.map((b) => `| ${b.figure} | ${b.budget} | ${b.value ?? ''} | ${b.verdict}${b.pending ? `: ${b.pending}` : ''} |`),
    '',
    '## Size',
    '',
    sizeTable(results.size),
    '',
    '## Timings',
    '',
    timingTable('Push -> notification shown, warm worker', results.push, 'floor'),
    '',
    sealedLine,
    '',
    timingTable('Cold start + first push', results.coldStart, 'floor'),
    '',
    burstTable(results.burst),
    '',
    fanoutTable(results.fanout),
    '',
  ].join('\n');
}
