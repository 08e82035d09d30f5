import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

// The CLI tests run bin/tidings.js, which imports ../dist/cli.js. Rather than run the whole
// rollup build, the sources the CLI needs are transpiled file by file (well under a second)
// into a scratch copy inside node_modules/.cache, so dependencies still resolve, with a
// dist/cli.js that runs the transpiled src/cli/main.js and a copy of bin/tidings.js.
const root = join(import.meta.dirname, '../..');
const folders = ['src/cli', 'src/server', 'src/testing', 'src/shared', 'src/queue', 'src/postgres'];

export interface CliScratch {
  /** The scratch directory: a place for the tests' files too. */
  dir: string;
  /** Its bin/tidings.js, to run with node. */
  bin: string;
  remove(): void;
}

export function makeCliScratch(): CliScratch {
  mkdirSync(join(root, 'node_modules/.cache'), { recursive: true });
  const dir = mkdtempSync(join(root, 'node_modules/.cache/tidings-cli-'));
  for (const folder of folders) {
    for (const name of readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })) {
      if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue;
      const source = readFileSync(join(root, folder, name), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      const file = join(dir, 'out', folder, name.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, outputText);
    }
  }
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist/cli.js'), "import '../out/src/cli/main.js';\n");
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'bin'));
  const bin = join(dir, 'bin/tidings.js');
  copyFileSync(join(root, 'bin/tidings.js'), bin);
  return { dir, bin, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
