import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

// TypeScript backends as users write them, compiled against the installed tarball. The
// compiler is this repository's; @types/node comes from here too (a backend has it).
const tsc = resolve('node_modules/typescript/bin/tsc');
const typeRoots = [resolve('node_modules/@types')];

// Uses both server entries, and proves the types are real: were `tidings/server`
// untyped (any), the @ts-expect-error line would itself be an error.
const serverConsumer = `import { createPushServer, generateVapidKeys, isTidingsError, memoryStore, type PushServer } from 'tidings/server';
import { startPushService, type PushService } from 'tidings/testing';

export function makeServer(): PushServer {
  return createPushServer({ vapid: { ...generateVapidKeys(), subject: 'mailto:ops@example.com' }, store: memoryStore() });
}
export type Service = PushService;
export function misuse(): PushServer {
  // @ts-expect-error basePath is a string
  return createPushServer({ vapid: { ...generateVapidKeys(), subject: 'mailto:ops@example.com' }, store: memoryStore(), basePath: 1 });
}
`;

function compile(dir: string, name: string, compilerOptions: Record<string, unknown>, file: string, source: string): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, file), source);
  const config = { compilerOptions: { strict: true, skipLibCheck: false, types: ['node'], typeRoots, outDir: 'out', ...compilerOptions }, files: [file] };
  writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify(config, null, 2));
  try {
    return execFileSync(process.execPath, [tsc, '-p', folder], { cwd: folder, encoding: 'utf8' });
  } catch (error) {
    // tsc prints its diagnostics on stdout: show them, not just the exit code.
    throw new Error(`tsc failed for ${name}:\n${(error as { stdout?: string }).stdout}`);
  }
}

describe('TypeScript consumers of the installed package', () => {
  const app = inject('pageApp');

  it('compiles a CommonJS backend (module node16) and its require() of server and testing runs', () => {
    compile(app.dir, 'cjs-node16', { module: 'node16', moduleResolution: 'node16', target: 'es2022' }, 'backend.ts', `${serverConsumer}
console.log(JSON.stringify({ createPushServer: typeof createPushServer, startPushService: typeof startPushService, isTidingsError: typeof isTidingsError }));
`);
    // The project has no "type": module, so out/backend.js is CommonJS: it require()s tidings.
    const out = execFileSync(process.execPath, ['cjs-node16/out/backend.js'], { cwd: app.dir, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ createPushServer: 'function', startPushService: 'function', isTidingsError: 'function' });
  });

  it('compiles an ESM app that a bundler resolves (moduleResolution bundler), page and server', () => {
    const page = `import { createPushClient, isSupported, type PushClient } from 'tidings';
export const client: PushClient | undefined = isSupported() ? createPushClient({ vapidPublicKey: 'BPk', backend: '/api/push' }) : undefined;
`;
    compile(app.dir, 'esm-bundler', { module: 'esnext', moduleResolution: 'bundler', target: 'es2022', lib: ['es2022', 'dom'], noEmit: true }, 'app.ts', `${page}${serverConsumer}`);
  });

  it('compiles a CommonJS backend on the old resolution (moduleResolution node10, through typesVersions)', () => {
    compile(app.dir, 'cjs-node10', { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', target: 'es2022', noEmit: true }, 'backend.ts', serverConsumer);
  });
});
