// Numbers, rates and times in the viewer's own locale (the browser's), never hard-coded.
const numbers = new Intl.NumberFormat();
const percents = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 2 });
const dateTimes = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const days = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const hours = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

export const formatNumber = (n: number): string => numbers.format(n);
/** A rate from 0 to 1; "–" when there is none (nothing shown yet). */
export const formatRate = (rate: number | null | undefined): string => (rate === null || rate === undefined ? '–' : percents.format(rate));
export const formatTime = (ms: number | undefined): string => (ms === undefined ? '–' : dateTimes.format(ms));
export const formatDay = (ms: number): string => days.format(ms);
export const formatHour = (ms: number): string => hours.format(ms);
/** A share of a whole, as a percentage; "–" when the whole is 0. */
export const formatShare = (part: number, whole: number): string => (whole > 0 ? percents.format(part / whole) : '–');
