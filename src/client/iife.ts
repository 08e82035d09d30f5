// The <script> tag build: `window.Tidings` is this module's exports.
export * from './index.js';
