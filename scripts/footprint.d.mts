// Types of footprint.mjs, for the package tests that use it.
export interface Footprint {
  packages: string[];
  bytes: number;
  native: string[];
}
export interface InstalledProject extends Footprint {
  dir: string;
  seconds: number;
}
export function cleanEnv(): NodeJS.ProcessEnv;
export function npm(args: string[], cwd: string): string;
export function packTarball(dir: string): string;
export function packedFiles(): string[];
export function installProject(name: string, specs: string[], options?: { ignoreScripts?: boolean }): InstalledProject;
export function measure(modules: string): Footprint;
