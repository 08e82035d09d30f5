import type { ComposeOptions, Control } from '../protocol.js';

export interface ControlValues {
  ttl: string;
  urgency: string;
  at: string;
  localTime: string;
  quietFrom: string;
  quietTo: string;
  perSecond: string;
  capMax: string;
  capPer: string;
}

export const EMPTY_CONTROLS: ControlValues = { ttl: '', urgency: '', at: '', localTime: '', quietFrom: '', quietTo: '', perSecond: '', capMax: '', capPer: '1d' };

const wholeNumber = (text: string) => (/^\d{1,9}$/.test(text) ? Number(text) : undefined);

/** The send() options the fields describe (only those offered), or why they describe none. */
export function toOptions(values: ControlValues, offered: readonly Control[]): { options: ComposeOptions } | { problem: string } {
  const options: ComposeOptions = {};
  if (values.ttl) {
    const ttl = wholeNumber(values.ttl);
    if (ttl === undefined) return { problem: 'Keep for: a whole number of seconds.' };
    options.ttl = ttl;
  }
  if (values.urgency) options.urgency = values.urgency as ComposeOptions['urgency'];
  if (offered.includes('at') && values.at) {
    const at = new Date(values.at).getTime();
    if (!Number.isFinite(at)) return { problem: 'Send at: not a time.' };
    options.at = at;
  }
  if (offered.includes('localTime') && values.localTime) {
    options.localTime = values.localTime;
    // Subscribers whose zone is not known get it in the viewer's zone.
    if (offered.includes('timeZone')) options.timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
  if (offered.includes('quietHours') && (values.quietFrom || values.quietTo)) {
    if (!values.quietFrom || !values.quietTo) return { problem: 'Quiet hours need a start and an end.' };
    options.quietHours = [values.quietFrom, values.quietTo];
  }
  if (offered.includes('perSecond') && values.perSecond) {
    const perSecond = wholeNumber(values.perSecond);
    if (!perSecond) return { problem: 'At most per second: a whole number above 0.' };
    options.perSecond = perSecond;
  }
  if (offered.includes('cap') && values.capMax) {
    const max = wholeNumber(values.capMax);
    if (!max) return { problem: 'Cap: a whole number above 0.' };
    options.cap = { max, per: values.capPer };
  }
  return { options };
}

interface ControlProps {
  values: ControlValues;
  offered: readonly Control[];
  onChange(values: ControlValues): void;
}

/** When and how fast: the options every push server takes, and the sending controls this one offers. */
export function ControlFields({ values, offered, onChange }: ControlProps) {
  const set = (field: keyof ControlValues) => (event: { currentTarget: { value: string } }) => onChange({ ...values, [field]: event.currentTarget.value });
  return (
    <fieldset>
      <legend>Delivery</legend>
      <label>
        Keep for (seconds, if the browser is offline)
        <input inputMode="numeric" value={values.ttl} onInput={set('ttl')} placeholder="2419200" />
      </label>
      <label>
        Urgency
        <select value={values.urgency} onChange={set('urgency')}>
          <option value="">normal (default)</option>
          <option value="very-low">very low</option>
          <option value="low">low</option>
          <option value="high">high</option>
        </select>
      </label>
      {offered.includes('at') && (
        <label>
          Send at (your time; empty: now)
          <input type="datetime-local" value={values.at} onInput={set('at')} />
        </label>
      )}
      {offered.includes('localTime') && (
        <label>
          At this time in each subscriber's own time zone
          <input type="time" value={values.localTime} onInput={set('localTime')} />
        </label>
      )}
      {offered.includes('quietHours') && (
        <div class="condition" role="group" aria-label="Quiet hours">
          <label>
            Quiet hours from
            <input type="time" value={values.quietFrom} onInput={set('quietFrom')} />
          </label>
          <label>
            to
            <input type="time" value={values.quietTo} onInput={set('quietTo')} />
          </label>
        </div>
      )}
      {offered.includes('perSecond') && (
        <label>
          At most per second
          <input inputMode="numeric" value={values.perSecond} onInput={set('perSecond')} />
        </label>
      )}
      {offered.includes('cap') && (
        <div class="condition" role="group" aria-label="Frequency cap">
          <label>
            Skip subscribers who already got
            <input inputMode="numeric" value={values.capMax} onInput={set('capMax')} />
          </label>
          <label>
            pushes in
            <select value={values.capPer} onChange={set('capPer')}>
              <option value="1h">an hour</option>
              <option value="1d">a day</option>
              <option value="7d">a week</option>
            </select>
          </label>
        </div>
      )}
      {offered.length === 0 && <p class="muted small">Sent now, as fast as it goes: this push server offers no scheduling, throttling or caps.</p>}
    </fieldset>
  );
}
