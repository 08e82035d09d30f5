// The tidings command line (bin/tidings.js runs the build of this file, dist/cli.js).
// Each command loads the library only once its flags are checked, so a bad command line
// is refused quickly and without the optional packages installed.
import { demo } from './demo.js';
import { pushService } from './pushService.js';
import { send } from './send.js';
import { UsageError } from './UsageError.js';
import { vapid } from './vapid.js';

const usage = `Usage: tidings <command> [options]

Commands:
  vapid [--subject URI] [--env FILE] [--force] [--public-env-name NAME]
      Print a new VAPID key pair as .env lines, or write them to FILE.
      --public-env-name also writes the public key as NAME (e.g. VITE_VAPID_PUBLIC_KEY).
  send --store FILE.db --title TEXT [--body TEXT] [--url PATH] [--to ID[,ID...]]
       [--attr KEY=VALUE ... | --audience JSON] [--data JSON] [--ttl SECONDS]
       [--urgency LEVEL] [--topic NAME] [--env FILE] [--allow-loopback]
       [--at TIME] [--local-time HH:MM] [--time-zone ZONE] [--quiet HH:MM-HH:MM]
       [--per-second N] [--cap MAX/PER] [--locales FILE.json]
      Send a notification to the subscriptions in a SQLite store. --attr values are
      strings (user=007); KEY:number=42 and KEY:boolean=true say otherwise, and a KEY
      given twice matches either value. --audience takes the whole audience as JSON
      ({"any":[…],"not":{…}}, see docs/server.md). VAPID keys come from
      VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT (environment or --env FILE).
      Only the known push services are sent to; --allow-loopback adds the local one.
      The sending controls (docs/controls.md): --at (ISO 8601 with offset), --local-time
      and --quiet make the send wait (kept in the store for a process with a scheduler:
      createPushServer({ scheduler: true })); --cap 3/1d, --per-second, --locales.
  send --redis URL --store postgres://…|FILE.db --title TEXT [same message flags]
       [--schema NAME] [--queue NAME] [--batch-size N] [--no-wait] [--allow-loopback]
      Queue the send for senders (tidings sender) and show its progress until done;
      --no-wait prints the message id and returns at once, as a send that waits does.
  status ID --store FILE.db|postgres://… [--schema NAME] [--redis URL [--queue NAME]]
      Print a send's state and counts (from the send log; with --redis, the queue's).
  cancel ID --store FILE.db|postgres://… [--schema NAME] [--redis URL [--queue NAME]]
      Cancel a send: one that waits sends nothing, one that runs stops after the pushes
      in flight. Prints its state and counts after.
  sender --redis URL --store postgres://…|FILE.db [--env FILE] [--concurrency N]
         [--schema NAME] [--queue NAME] [--stall-timeout MS] [--allow-loopback]
         [--metrics-port N [--metrics-host ADDRESS]]
      Deliver queued sends until SIGTERM (then finish the batch in flight and exit 0).
      Run one per core, on as many machines as you like. --stall-timeout: the longest
      a killed sender's batch waits before another takes it (default 10000).
      --metrics-port serves Prometheus metrics at http://127.0.0.1:N/metrics (needs
      prom-client; --metrics-host to listen elsewhere). See docs/scale.md.
  stats [ID] --store FILE.db|postgres://… [--schema NAME] [--redis URL [--queue NAME]]
        [--limit N] [--json]
      The last sends with their funnels (targeted, sent, delivered, shown, clicked…) as a
      table; with a message ID, that message: its funnel, by push service, by browser,
      its errors. --redis adds the live counts of queued sends still running. --json
      prints what push.stats answers, for scripts. See docs/insight.md.
  dashboard --store FILE.db|postgres://… [--schema NAME] [--redis URL [--queue NAME]]
            [--port N] [--host ADDRESS] [--env FILE] [--allow-loopback]
      Run the dashboard alone on http://127.0.0.1:4900/ (see docs/dashboard.md). Sign in
      with any user name and the token: TIDINGS_DASHBOARD_TOKEN, or one printed at start.
      VAPID keys as for send; with --redis, compose sends through the queue.
  push-service [--port N] [--tls]
      Run the local push service on 127.0.0.1 and print the Firefox prefs for it.
  demo [--port N] [--push-port N] [--data-dir DIR]
      Run the demo: local push service, a backend with SQLite and the demo site,
      on 127.0.0.1 (defaults: site 4800, push service 4801, data in ./.tidings-demo).
  help
      Show this text.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'vapid':
      return vapid(rest);
    case 'send':
      return send(rest);
    case 'sender':
      return (await import('./queueCommands.js')).sender(rest);
    case 'status':
    case 'cancel':
      return (await import('./sendRecords.js')).sendRecordCommand(command, rest);
    case 'dashboard':
      return (await import('./dashboard.js')).dashboard(rest);
    case 'stats':
      return (await import('./stats.js')).stats(rest);
    case 'push-service':
      return pushService(rest);
    case 'demo':
      return demo(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return 0;
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tidings: ${error.message}\nRun "tidings help" for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tidings: ${(error as Error | undefined)?.stack ?? error}\n`);
      process.exitCode = 1;
    }
  },
);
