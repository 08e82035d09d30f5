// The smallest worker import a bundler user of tidings pays for.
export { createPushWorker } from '../../dist/worker.js';
