// Types for scripts/dashboardAssets.mjs (vitest.config.ts imports it).
import type { Plugin } from 'vite';

export const ASSETS_ID: 'tidings:dashboard-assets';
export function minifyCss(css: string): string;
export function buildDashboardUi(): Promise<{ js: string; css: string; icon: string }>;
export function dashboardAssets(options?: { writeTo?: string }): Plugin;
