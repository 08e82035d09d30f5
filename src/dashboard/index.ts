// tidings/dashboard: the operator's pages, as a Fetch-API handler mounted beside the push
// routes. Node 20+, or any runtime with the Fetch API: its script and style are inside
// this module, so it reads no file.

export { createDashboard } from './createDashboard.js';

// Errors
export { TidingsError, isTidingsError } from '../shared/TidingsError.js';

export type {
  Authorize,
  AuthorizeContext,
  Dashboard,
  DashboardOptions,
  DashboardPush,
  DashboardQueue,
  QueueStatus,
  RequestInfo,
  Viewer,
} from './dashboardTypes.js';
export type * from './protocol.js';
export type { TidingsErrorCode, TidingsErrorDetails } from '../shared/TidingsError.js';
