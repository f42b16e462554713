/** Bridge database sessions plan with actual parameters (ADR 0006). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectClient, createPool, redactUrl } from '../../relayer/store/db.ts';
import { SERVER_URL } from '../helpers/db.ts';

describe('database sessions', () => {
  it('pooled and dedicated connections use custom plans, so the parent-key check keeps using its index', async () => {
    const pool = createPool(SERVER_URL, 1);
    const client = await connectClient(SERVER_URL);
    try {
      assert.equal((await pool.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).rows[0]?.plan_cache_mode, 'force_custom_plan');
      assert.equal((await client.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).rows[0]?.plan_cache_mode, 'force_custom_plan');
    } finally {
      await client.end();
      await pool.end();
    }
  });

  it('redacts passwords from connection strings', () => {
    assert.equal(redactUrl('postgres://app:hunter2@db:5432/x'), 'postgres://app:***@db:5432/x');
    assert.equal(redactUrl('postgres://app@db/x'), 'postgres://app:***@db/x');
  });
});
