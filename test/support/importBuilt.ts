/**
 * Imports a module of the built package (dist/), typed as its source. The path goes
 * through a variable so that type-checking does not need dist/ (it runs before the build
 * on a clean clone); the tests that call this run after `npm run build`.
 */
export async function importBuilt<T>(file: string): Promise<T> {
  const url = new URL(`../../dist/${file}`, import.meta.url).href;
  return (await import(url)) as T;
}
