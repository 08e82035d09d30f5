// The dashboard's script and style, built from ui/ at package build time by
// scripts/dashboardAssets.mjs (rollup.config.mjs, and vitest.config.ts for the tests):
// hashed names, bodies as text.
declare module 'tidings:dashboard-assets' {
  export const assets: { name: string; type: string; body: string }[];
  /** The script's hashed name (`dashboard.<hash>.js`). */
  export const script: string;
  /** The style's hashed name (`dashboard.<hash>.css`). */
  export const style: string;
  /** The favicon's hashed name (`icon.<hash>.svg`), so the browser asks the dashboard, not the site, for one. */
  export const icon: string;
}
