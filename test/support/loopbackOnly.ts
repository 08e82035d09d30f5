import dns from 'node:dns';
import net from 'node:net';
import { vi } from 'vitest';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/** What a test's network guard saw: connections it stopped, names it was asked for. */
export interface LoopbackOnly {
  /** Connections to anything but 127/8 or ::1 that reached the socket layer (and were stopped there). */
  stopped: string[];
  /** Host names resolved, in order. */
  resolved: string[];
}

const isLoopback = (address: string) => /^127\./.test(address) || address === '::1';

/**
 * Keeps a test on loopback whatever the code under test does. `dns.lookup` answers
 * from `names` (an IP literal is itself; a name not listed is ENOTFOUND, so no query
 * leaves the machine), and
 * every socket connect is checked where node:net would open it: an IP literal host,
 * or each address its lookup returns, that is not loopback is stopped before a packet
 * is sent, and recorded, so the test can fail on it. Undo with `vi.restoreAllMocks()`.
 */
export function loopbackOnly(names: Record<string, string[]>): LoopbackOnly {
  const seen: LoopbackOnly = { stopped: [], resolved: [] };
  vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, options: unknown, callback?: unknown) => {
    const done = (typeof options === 'function' ? options : callback) as LookupCallback;
    const all = typeof options === 'object' && options !== null && (options as dns.LookupOptions).all === true;
    seen.resolved.push(hostname);
    // An IP literal resolves to itself (server.listen looks its host up too).
    const addresses = net.isIP(hostname) ? [hostname] : Object.hasOwn(names, hostname) ? names[hostname]! : undefined;
    process.nextTick(() => {
      if (!addresses) return done(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
      const list = addresses.map((address) => ({ address, family: net.isIP(address) }));
      if (all) done(null, list);
      else done(null, list[0]!.address, list[0]!.family);
    });
  }) as unknown as typeof dns.lookup);

  const connect = net.Socket.prototype.connect;
  vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    // node:http passes normalised arguments: an array whose first item is the options.
    const holder = (Array.isArray(args[0]) ? args[0] : args) as unknown[];
    const options = holder[0] as (net.TcpNetConnectOpts & { lookup?: Lookup; path?: string | null }) | undefined;
    // node:net connects to a pipe when `path` is truthy (node:http passes null).
    if (options && typeof options === 'object' && !options.path) {
      const host = (options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
      if (net.isIP(host) && !isLoopback(host)) {
        seen.stopped.push(host);
        process.nextTick(() => this.destroy(new Error(`loopbackOnly: stopped a connection to ${host}`)));
        return this;
      }
      const inner: Lookup = options.lookup ?? (dns.lookup as unknown as Lookup);
      const lookup: Lookup = (hostname, lookupOptions, callback) =>
        inner(hostname, lookupOptions, (error, address, family) => {
          const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
          const outside = addresses.filter((entry) => !isLoopback(entry));
          if (!error && outside.length > 0) {
            seen.stopped.push(...outside);
            return callback(new Error(`loopbackOnly: stopped a connection to ${outside.join(', ')}`), '');
          }
          callback(error, address, family);
        });
      holder[0] = { ...options, lookup };
    }
    return connect.apply(this, args as Parameters<typeof connect>);
  });
  return seen;
}
