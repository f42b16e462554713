/** Devnet services: a checkout PostgreSQL's user cannot reach gets a clear error, not a bare EACCES. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../relayer/ledger/errors.ts';
import { assertPostgresCanReach } from '../relayer/devnet/services.ts';

describe('embedded PostgreSQL reachability', () => {
  it('names the directory the postgres user cannot enter (as root) and accepts reachable ones', () => {
    const open = mkdtempSync(join(tmpdir(), 'klx-reach-'));
    chmodSync(open, 0o755);
    assertPostgresCanReach(open);
    const closed = mkdtempSync(join(tmpdir(), 'klx-private-')); // mode 0700
    const inside = join(closed, 'checkout', '.devnet');
    mkdirSync(inside, { recursive: true });
    if (process.getuid?.() === 0) {
      assert.throws(() => assertPostgresCanReach(inside), (e) => e instanceof ConfigError && e.message.includes(closed) && /DATABASE_URL/.test(e.message));
    } else {
      assertPostgresCanReach(inside); // not root: PostgreSQL runs as the caller, nothing to check
    }
  });
});
