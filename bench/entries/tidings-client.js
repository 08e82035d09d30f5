// The smallest page import a bundler user of tidings pays for.
export { createPushClient } from '../../dist/index.js';
