/**
 * CpuMeter: CPU time per process over a benchmark window, read from /proc (Linux). It
 * labels the bench's own child processes (role processes by name, anvil nodes), the
 * PostgreSQL server's processes (backends by the application_name their role gives them,
 * background processes by type) and the Redis server, so a run can say where the CPU of
 * each withdrawal went and which role would bound throughput on a machine of its own.
 * Client backends count only in this bench's database; server processes (PostgreSQL's
 * own, Redis) count machine-wide. A process that exits inside the window is missing from
 * the end snapshot, so the figures are a lower bound. Where /proc is missing,
 * `available` is false and the bench says so instead of guessing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** CPU seconds per labelled process (label#pid), at one moment. */
export type CpuSnapshot = Map<string, number>;

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  cpu: number;
  comm: string;
}

export function procStat(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    return { comm: s.slice(s.indexOf('(') + 1, close), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / clockTicks };
  } catch {
    return null; // gone between the listing and the read
  }
}

export class CpuMeter {
  readonly available = existsSync('/proc/self/stat');

  /** `roles`: role name -> PID of the bench's role processes; `pool` reaches the PostgreSQL server. */
  constructor(
    private readonly roles: () => Map<string, number>,
    private readonly pool: pg.Pool,
  ) {}

  async snapshot(): Promise<CpuSnapshot> {
    const out: CpuSnapshot = new Map();
    if (!this.available) return out;
    const pgLabels = new Map<number, string>();
    const { rows } = await this.pool.query<{ pid: number; label: string }>(
      `SELECT pid, CASE WHEN backend_type = 'client backend' THEN 'pg:' || coalesce(nullif(application_name, ''), 'other') ELSE 'pg:' || backend_type END AS label
         FROM pg_stat_activity WHERE backend_type <> 'client backend' OR datname = current_database()`,
    );
    for (const r of rows) pgLabels.set(r.pid, r.label);
    const roleOf = new Map([...this.roles()].map(([name, pid]) => [pid, name]));
    for (const entry of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(entry)) continue;
      const pid = Number(entry);
      const st = procStat(pid);
      if (!st) continue;
      let label = roleOf.get(pid) ?? pgLabels.get(pid);
      if (!label && st.ppid === process.pid && st.comm.startsWith('anvil')) label = 'anvil';
      if (!label && st.comm.startsWith('redis-server')) label = 'redis';
      if (!label && st.comm.startsWith('postgres')) label = 'pg:server';
      if (pid === process.pid) label = 'bench';
      if (label) out.set(`${label}#${pid}`, st.cpu);
    }
    return out;
  }
}

/** CPU seconds per label (PIDs summed) between two snapshots; a process new in `end` counts from zero. */
export function cpuBetween(start: CpuSnapshot, end: CpuSnapshot): Map<string, number> {
  const byLabel = new Map<string, number>();
  for (const [key, cpu] of end) {
    const label = key.slice(0, key.lastIndexOf('#'));
    byLabel.set(label, (byLabel.get(label) ?? 0) + Math.max(0, cpu - (start.get(key) ?? 0)));
  }
  return byLabel;
}

/** Milliseconds per item for each role kind (instances averaged, each with its PostgreSQL backends) and the rest. */
export function cpuReport(cpu: Map<string, number>, items: number, wallSeconds: number, cores: number): string[] {
  const ms = (s: number) => (s * 1000) / items;
  const instances = new Map<string, number>();
  const rest = new Map<string, number>();
  for (const [label, s] of cpu) {
    const own = label.startsWith('pg:') ? label.slice(3) : label;
    if (/^(processor|submitter|coordinator|listener-\d+|approver-\d+)$/.test(own)) instances.set(own, (instances.get(own) ?? 0) + s);
    else {
      const group = label === 'pg:other' || label === 'bench' ? 'bench' : label.startsWith('pg:') ? 'postgres server' : label;
      rest.set(group, (rest.get(group) ?? 0) + s);
    }
  }
  const kinds = new Map<string, number[]>();
  for (const [name, s] of instances) {
    const kind = name.replace(/-\d+$/, '');
    kinds.set(kind, [...(kinds.get(kind) ?? []), s]);
  }
  const roleParts = [...kinds].map(([kind, xs]) => {
    const avg = xs.reduce((a, b) => a + b, 0) / xs.length;
    return xs.length > 1 ? `${kind} ${ms(avg).toFixed(1)} each (x${xs.length})` : `${kind} ${ms(avg).toFixed(1)}`;
  });
  const restParts = [...rest].sort((a, b) => b[1] - a[1]).map(([k, s]) => `${k} ${ms(s).toFixed(1)}`);
  const total = [...cpu.values()].reduce((a, b) => a + b, 0);
  const [busiest, busiestS] = [...instances].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  return [
    `CPU per withdrawal, ms (from /proc; each role with its PostgreSQL backends): ${roleParts.join('   ')}`,
    `  not a role: ${restParts.join('   ')}`,
    `  all processes ${ms(total).toFixed(1)} ms: ${(total / wallSeconds).toFixed(2)} of ${cores} cores busy, so at most ${((cores * 1000) / ms(total)).toFixed(0)}/s on this machine`,
    `  busiest role process: ${busiest} ${ms(busiestS).toFixed(1)} ms, about ${(1000 / ms(busiestS)).toFixed(0)}/s on a core of its own (an estimate: measured on this shared, saturated machine)`,
  ];
}
