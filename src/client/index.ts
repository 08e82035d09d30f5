// tidings: the page SDK. Exports are listed by name; nothing runs at import.
export { isSupported } from './isSupported.js';
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';
export type { TidingsErrorCode } from '../shared/TidingsError.js';
