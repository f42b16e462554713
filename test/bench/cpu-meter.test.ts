/** The bench's CpuMeter: windows per label, roles charged with their PostgreSQL backends, and /proc read for real. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CpuMeter, cpuBetween, cpuReport } from './cpu-meter.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('CpuMeter', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('cpu_meter');
  });
  after(async () => {
    await db.drop();
  });

  it('sums a window per label over PIDs, counting a process that appeared from zero', () => {
    const start = new Map([['listener-0#10', 1.0], ['pg:listener-0#20', 0.5], ['anvil#30', 2.0]]);
    const end = new Map([['listener-0#10', 1.4], ['pg:listener-0#20', 0.6], ['pg:listener-0#21', 0.05], ['anvil#30', 2.3]]);
    const w = cpuBetween(start, end);
    assert.ok(Math.abs((w.get('listener-0') ?? 0) - 0.4) < 1e-9);
    assert.ok(Math.abs((w.get('pg:listener-0') ?? 0) - 0.15) < 1e-9);
    assert.ok(Math.abs((w.get('anvil') ?? 0) - 0.3) < 1e-9);
  });

  it('reports each role kind per item with its PostgreSQL backends, and the busiest role', () => {
    const w = new Map([
      ['processor', 0.6], ['pg:processor', 0.2],
      ['listener-0', 0.3], ['pg:listener-0', 0.1], ['listener-1', 0.5], ['pg:listener-1', 0.1],
      ['anvil', 0.2], ['bench', 0.05], ['pg:other', 0.05], ['pg:walwriter', 0.1],
    ]);
    const lines = cpuReport(w, 100, 1, 2);
    assert.match(lines[0] ?? '', /processor 8\.0/);
    assert.match(lines[0] ?? '', /listener 5\.0 each \(x2\)/);
    assert.match(lines[1] ?? '', /anvil 2\.0/);
    assert.match(lines[1] ?? '', /bench 1\.0/);
    assert.match(lines[1] ?? '', /postgres server 1\.0/);
    assert.match(lines[2] ?? '', /all processes 22\.0 ms: 2\.20 of 2 cores busy, so at most 91\/s/);
    assert.match(lines[3] ?? '', /processor 8\.0 ms, about 125\/s/);
  });

  it('reads the CPU of a busy child process from /proc, labelled by role', { skip: process.platform !== 'linux' && 'no /proc' }, async () => {
    const child = spawn(process.execPath, ['-e', 'for (;;) {}']);
    try {
      await new Promise((r) => child.once('spawn', r));
      const meter = new CpuMeter(() => new Map([['listener-0', child.pid as number]]), db.pool);
      const start = await meter.snapshot();
      assert.ok([...start.keys()].some((k) => k === `listener-0#${child.pid}`));
      assert.ok([...start.keys()].some((k) => k === `bench#${process.pid}`));
      // A loaded machine gives the child less than a core: wait until it has had 0.1 s.
      const deadline = Date.now() + 30_000;
      let used = 0;
      while (used < 0.1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        used = cpuBetween(start, await meter.snapshot()).get('listener-0') ?? 0;
      }
      assert.ok(used >= 0.1, `the busy child used ${used} s`);
    } finally {
      child.kill();
    }
  });
});
