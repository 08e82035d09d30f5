// The <script> tag build: `window.Tidings` is this module's exports.
import { autoInit } from './autoInit.js';

export * from './index.js';

/** The client made from this script tag's `data-*` attributes, if it has `data-vapid-public-key`. */
export const client = autoInit(document.currentScript);
