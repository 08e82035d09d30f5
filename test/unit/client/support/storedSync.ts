import { getValue, openTidingsDB } from '../../../../src/worker/db.js';

/** What this browser's tidings database holds for the backend: the last registration and the one queued. */
export async function storedSync() {
  const db = await openTidingsDB();
  try {
    return { sync: await getValue(db, 'sync'), pending: await getValue(db, 'pending') };
  } finally {
    db.close();
  }
}
