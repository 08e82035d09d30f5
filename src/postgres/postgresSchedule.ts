import type { SubscriptionStore } from '../server/stores/SubscriptionStore.js';
import type { SendPlan } from '../server/schedule/scheduleTypes.js';
import type { PostgresContext } from './postgresRollups.js';

type ScheduleMethods = Pick<SubscriptionStore, 'scheduleSend' | 'claimScheduledSends' | 'updateScheduledSend' | 'deleteScheduledSend'>;

/**
 * postgresStore's kept sends. A claim is one statement: the due rows are picked
 * `FOR UPDATE SKIP LOCKED` (rows another scheduler is claiming at the same moment are
 * passed over, not waited for) and leased in the same UPDATE, so each send has one
 * holder at a time however many schedulers poll.
 */
export function postgresSchedule({ t, query }: PostgresContext): ScheduleMethods {
  return {
    async scheduleSend({ id, runAt, plan }) {
      const { rowCount } = await query(`INSERT INTO ${t('scheduled_sends')} (id, run_at, plan) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [
        id,
        runAt,
        JSON.stringify(plan),
      ]);
      return rowCount === 1;
    },
    async claimScheduledSends({ now, owner, leaseUntil, limit }) {
      const { rows } = await query<{ id: string; run_at: string; plan: SendPlan }>(
        `UPDATE ${t('scheduled_sends')} SET lease_owner = $2, lease_until = $3
         WHERE id IN (
           SELECT id FROM ${t('scheduled_sends')} WHERE run_at <= $1 AND lease_until < $1
           ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED
         )
         RETURNING id, run_at, plan`,
        [now, owner, leaseUntil, limit],
      );
      return rows.map((row) => ({ id: row.id, runAt: Number(row.run_at), plan: row.plan })).sort((a, b) => a.runAt - b.runAt);
    },
    async updateScheduledSend(id, owner, { leaseUntil, runAt, plan }) {
      const { rowCount } = await query(
        `UPDATE ${t('scheduled_sends')} SET lease_until = $3, run_at = coalesce($4, run_at), plan = coalesce($5::jsonb, plan)
         WHERE id = $1 AND lease_owner = $2`,
        [id, owner, leaseUntil, runAt ?? null, plan === undefined ? null : JSON.stringify(plan)],
      );
      return rowCount === 1;
    },
    async deleteScheduledSend(id) {
      return ((await query(`DELETE FROM ${t('scheduled_sends')} WHERE id = $1`, [id])).rowCount ?? 0) === 1;
    },
  };
}
