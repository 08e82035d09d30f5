import { formatNumber, formatShare } from './format.js';

/** Counts by a name (push service, browser, attribute value), largest first, with their share. */
export function CountTable({ caption, label, counts, total }: { caption: string; label: string; counts: Record<string, number>; total: number }) {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return (
    <table class="numbers">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{label}</th>
          <th scope="col">Subscribers</th>
          <th scope="col">Share</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={3} class="muted">
              none
            </td>
          </tr>
        )}
        {rows.map(([name, count]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{formatNumber(count)}</td>
            <td>{formatShare(count, total)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
