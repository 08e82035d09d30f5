export { subscribe } from '../floor/page.js';
