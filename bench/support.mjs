// The bench drives Chromium with the e2e harness itself (launch flags, static server; push
// events through tidings/testing's attachPushDriver, as built), not a second copy of it.
// The harness is TypeScript and Node 20 cannot run that,
// so it is transpiled once into bench/.cache/support/, at the same depth below the
// repository as test/e2e/support/, which keeps its own path arithmetic right.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

const source = resolve(import.meta.dirname, '../test/e2e/support');
const target = resolve(import.meta.dirname, '.cache/support');

/** Transpiles the e2e support files and imports them: `{ launchChromium, newContext, startStaticServer, CHROMIUM_PATH }`. */
export async function loadHarness() {
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(source).filter((name) => name.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(resolve(source, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(resolve(target, file.replace(/\.ts$/, '.js')), outputText);
  }
  const chromium = await import(resolve(target, 'chromium.js'));
  const staticServer = await import(resolve(target, 'staticServer.js'));
  return { ...chromium, ...staticServer };
}
