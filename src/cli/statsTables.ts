// What `tidings stats` prints: the send log as a table, one message's funnel. Every text
// that came from outside (titles, senders, hosts, a push service's reasons) goes through
// sanitizeText: an escape sequence in a title must not repaint the operator's terminal.
import { sanitizeText } from '../server/common/sanitizeText.js';
import { overdueSince } from '../server/stats/overdueSince.js';
import type { EventCounts, MessageStats, MessageSummary, SendFailure } from '../server/stats/statsTypes.js';

/** Text from the store, safe for a terminal and cut to `max` characters. */
export const clean = (text: string | undefined, max = 60): string => (text === undefined ? '' : sanitizeText(text, max));

const time = (at: number | undefined): string => (at === undefined ? '' : new Date(at).toISOString().slice(0, 16).replace('T', ' '));
const percent = (rate: number | null): string => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);

/** Rows as columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => [...row[i]!].length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  return cells
    .map((row) => row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

/** The last sends with their funnels. */
export function sendsTable(items: MessageSummary[], now = Date.now()): string {
  if (items.length === 0) return 'No sends in the log yet.';
  return table(
    ['CREATED (UTC)', 'ID', 'STATE', 'TARGETED', 'SENT', 'FAILED', 'DELIVERED', 'SHOWN', 'CLICKED', 'CTR', 'TITLE'],
    items.map((item) => [
      time(item.createdAt),
      clean(item.id, 32),
      overdueSince(item, now) === undefined ? item.state : `${item.state} (overdue)`,
      item.targeted,
      item.sent,
      item.failed + item.gone,
      item.delivered,
      item.shown,
      item.clicked,
      percent(item.clickRate),
      clean(item.title, 40),
    ]),
  );
}

const EVENTS: (keyof EventCounts)[] = ['delivered', 'shown', 'clicked', 'closed', 'workerFailed'];

/** One message: what it was, its funnel, by push service, by browser, its errors. */
export function messageReport(stats: MessageStats, now = Date.now()): string {
  const overdue = overdueSince(stats, now);
  const lines = [
    `Message ${clean(stats.id, 128)}${stats.title !== undefined ? `: ${clean(stats.title, 120)}` : ''}`,
    `  ${stats.state}, via ${stats.via}${stats.by !== undefined ? `, by ${clean(stats.by)}` : ''}; created ${time(stats.createdAt)}${stats.startedAt ? `, started ${time(stats.startedAt)}` : ''}${stats.finishedAt ? `, finished ${time(stats.finishedAt)}` : ''} (UTC)`,
  ];
  if (overdue !== undefined) {
    lines.push(
      stats.state === 'scheduled'
        ? `  overdue since ${time(overdue)} (UTC): its time came and no scheduler has started it`
        : `  overdue since ${time(overdue)} (UTC): the process sending it was to write its progress by then and has not; it has most likely stopped (tidings cancel ${clean(stats.id, 128)} closes it)`,
    );
  }
  if (stats.url !== undefined) lines.push(`  url ${clean(stats.url, 200)}`);
  if (stats.error !== undefined) lines.push(`  error: ${clean(stats.error, 200)}`);
  lines.push(
    '',
    'Funnel',
    table(
      ['targeted', 'sent', 'gone', 'failed', 'pruned', 'delivered', 'shown', 'clicked', 'closed', 'worker failed', 'click rate'],
      [[stats.targeted, stats.sent, stats.gone, stats.failed, stats.pruned, stats.delivered, stats.shown, stats.clicked, stats.closed, stats.workerFailed, percent(stats.clickRate)]],
    ),
  );
  if (EVENTS.some((key) => stats.unverified[key] > 0)) {
    lines.push(`  unverified (unsigned, not in the figures above): ${EVENTS.map((key) => `${key} ${stats.unverified[key]}`).join(', ')}`);
  }
  const services = Object.entries(stats.byService);
  if (services.length > 0) {
    lines.push('', 'By push service', table(['SERVICE', 'SENT', 'GONE', 'FAILED', 'DELIVERED', 'SHOWN', 'CLICKED', 'CLOSED'], services.map(([name, row]) => [clean(name, 24), row.sent, row.gone, row.failed, row.delivered, row.shown, row.clicked, row.closed])));
  }
  const browsers = Object.entries(stats.byBrowser);
  if (browsers.length > 0) {
    lines.push('', 'By browser', table(['BROWSER', 'DELIVERED', 'SHOWN', 'CLICKED', 'CLOSED', 'WORKER FAILED'], browsers.map(([name, row]) => [clean(name, 24), row.delivered, row.shown, row.clicked, row.closed, row.workerFailed])));
  }
  if (stats.errors.length > 0) lines.push('', 'Errors', errorsTable(stats.errors));
  return lines.join('\n');
}

function errorsTable(errors: SendFailure[]): string {
  return table(['CAUSE', 'HOST', 'COUNT', 'SAMPLE'], errors.map((error) => [clean(error.cause, 24), clean(error.host, 64) || '—', error.count, clean(error.sample, 80)]));
}

/**
 * JSON for scripts, with the characters a terminal or a log viewer could act on escaped
 * (C1 controls, line and paragraph separators, bidi and zero-width marks), which
 * JSON.stringify leaves as they are: the same data, parsed.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
