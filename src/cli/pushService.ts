// `tidings push-service`: the local push service, until Ctrl-C.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { options } from './options.js';
import { portOption } from './portOption.js';
import { printUntilStopped } from './printUntilStopped.js';
import { startupError } from './startupError.js';

export async function pushService(args: string[]): Promise<number> {
  const values = options(args, { port: { type: 'string' }, tls: { type: 'boolean' } });
  const port = portOption(values.port, '--port') ?? 0;
  const { startPushService } = await import('../testing/index.js');
  const service = await startPushService({ port, tls: Boolean(values.tls) }).catch(startupError);
  const lines = [`Push service: ${service.url}`, `WebSocket (Firefox): ${service.webSocketUrl}`];
  if (service.ca) {
    const caFile = join(tmpdir(), `tidings-push-ca-${process.pid}.pem`);
    writeFileSync(caFile, service.ca);
    lines.push(`CA certificate: ${caFile} (for Node: NODE_EXTRA_CA_CERTS=${caFile})`);
  }
  lines.push('', 'Firefox prefs (user.js):');
  for (const [name, value] of Object.entries(service.firefoxPrefs())) lines.push(`user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`);
  lines.push('', 'Ctrl-C stops it.');
  await printUntilStopped(lines);
  await service.close();
  return 0;
}
