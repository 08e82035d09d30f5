// tidings/react: the React hook. Exports are listed by name; nothing runs at import.
export { usePush } from './usePush.js';

export type { UsePushResult } from './usePush.js';
export type { PushActions, PushSnapshot } from './pushStore.js';
