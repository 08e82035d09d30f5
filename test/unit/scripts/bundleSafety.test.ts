import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sloppyHazards } from '../../../scripts/size-report.mjs';

const repo = resolve(import.meta.dirname, '../../..');

/**
 * Every property and method name the interfaces and type literals of `file` declare, but
 * the object-store names of an idb schema (`extends DBSchema`): the code names those in
 * strings ('outbox'), which renaming never touches.
 */
function declaredNames(file: string): Set<string> {
  const source = ts.createSourceFile(file, readFileSync(resolve(repo, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  const storeNames = (node: ts.Node) =>
    ts.isInterfaceDeclaration(node.parent) && !!node.parent.heritageClauses?.some((clause) => clause.getText(source).includes('DBSchema'));
  const visit = (node: ts.Node) => {
    const named = ts.isPropertySignature(node) || ts.isMethodSignature(node);
    if (named && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) && !storeNames(node)) names.add(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

describe("the worker's renamed property names (rollup.config.mjs)", () => {
  // Read from the config's text: importing it would load every build plugin.
  const listed = /export const workerInternalNames = \/\^\(([\w|]+)\)\$\//.exec(readFileSync(resolve(repo, 'rollup.config.mjs'), 'utf8'))![1]!.split('|');

  it('names none that the wire protocol, the stored records or the public types declare', () => {
    expect(listed).toContain('outbox');
    for (const file of ['src/shared/protocol.ts', 'src/worker/db.ts', 'src/worker/types.ts']) {
      const declared = declaredNames(file);
      expect(declared.size, file).toBeGreaterThan(5);
      expect(listed.filter((name) => declared.has(name)), file).toEqual([]);
    }
  });

  it('reads the names of stored records, and leaves out only the object-store names', () => {
    const stored = declaredNames('src/worker/db.ts');
    expect(['backendId', 'sealKey', 'pending', 'event', 'prompt'].filter((name) => !stored.has(name))).toEqual([]);
    expect(stored.has('outbox')).toBe(false);
  });
});

describe('the IIFEs without "use strict" (size-report.mjs)', () => {
  it('find what sloppy mode reads differently', () => {
    expect(sloppyHazards('var T=function(e){return e}({});')).toEqual([]);
    expect(sloppyHazards('!function(){return arguments.length}()')).toEqual(['arguments']);
    expect(sloppyHazards('!function(e){if(e){function g(){}}}()')).toEqual(['function g in a block']);
    expect(sloppyHazards('!function(e){switch(e){case 1:function h(){}}}()')).toEqual(['function h in a SwitchCase']);
    expect(sloppyHazards('!function(o){with(o){}}()')[0]).toMatch(/^code a strict parser refuses/);
    // Function declarations in a function's body, a class method or a static block are as in strict code.
    expect(sloppyHazards('function a(){function b(){}}class C{m(){function c(){}}static{function d(){}}}')).toEqual([]);
  });
});
