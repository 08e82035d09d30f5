import type { EventCounts, SendCounts } from '../protocol.js';
import { formatNumber, formatShare } from './format.js';

export const FUNNEL = ['targeted', 'sent', 'delivered', 'shown', 'clicked'] as const;

type Funnel = Pick<SendCounts, 'targeted' | 'sent'> & Pick<EventCounts, 'delivered' | 'shown' | 'clicked'>;

/**
 * A send's funnel as five bars, each as long as its share of the audience: an SVG whose
 * widths are attributes (the CSP forbids inline styles), named for screen readers.
 */
export function FunnelBar({ counts }: { counts: Funnel }) {
  const whole = Math.max(counts.targeted, counts.sent, 1);
  return (
    <svg
      class="funnel"
      viewBox="0 0 100 25"
      preserveAspectRatio="none"
      role="img"
      aria-label={FUNNEL.map((step) => `${step} ${formatNumber(counts[step])}`).join(', ')}
    >
      {FUNNEL.map((step, i) => (
        <rect key={step} class={`bar-${step}`} x="0" y={i * 5} height="4" width={(100 * Math.min(counts[step], whole)) / whole} />
      ))}
    </svg>
  );
}

/** The same funnel as a table: each step, its count and its share of those targeted. */
export function FunnelTable({ counts }: { counts: Funnel }) {
  return (
    <table class="numbers">
      <caption>Funnel</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Subscribers</th>
          <th scope="col">Of targeted</th>
        </tr>
      </thead>
      <tbody>
        {FUNNEL.map((step) => (
          <tr key={step}>
            <th scope="row">{step}</th>
            <td>{formatNumber(counts[step])}</td>
            <td>{formatShare(counts[step], counts.targeted)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
