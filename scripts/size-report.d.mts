// Types of size-report.mjs, for bench/size.mjs's readers and the unit tests.
export interface Budget {
  file: string;
  also?: string[];
  /** DESIGN.md's budget, brotli bytes. */
  brotli: number;
  /** What CI enforces, brotli bytes. */
  limit: number;
}
export const budgets: Budget[];
export function measure(source: string): { min: number; gzip: number; brotli: number };
/** What in an IIFE shipped without "use strict" sloppy mode would read differently; empty when nothing. */
export function sloppyHazards(source: string): string[];
