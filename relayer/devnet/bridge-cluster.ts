/**
 * A whole bridge as separate processes: the processor (channel node API + co-signer),
 * 5 listeners, 3 approvers and a submitter, over given PostgreSQL, Redis, EVM chains and
 * Solana clusters.
 * The devnet runs one; integration tests run one per suite. Each process is started
 * through the `klx-bridge` CLI, exactly as operators run it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { devnetConfig, devnetProducerEnv, devnetRoleProcesses, type DevnetChainRef, type DevnetCoordinatorOptions } from './devnet-config.ts';

export const CLI_PATH = fileURLToPath(new URL('../cli/klx-bridge.mjs', import.meta.url));

export interface RoleProcess {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export interface BridgeClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  chains: readonly DevnetChainRef[];
  /** Solana clusters (bankrun JSON-RPC or a validator) with the bridge deployed. */
  solanaChains?: readonly DevnetChainRef[];
  /** Where the config file goes. */
  dir: string;
  apiPort: number;
  /** Prefix of every schema this cluster owns (dropped at start when `fresh`). */
  schemaPrefix: string;
  confirmationBlocks: number;
  fresh: boolean;
  /** Runs the coordinator too (its log in schema `<prefix>coordinator`), with the migration when Ethereum is bridged. */
  coordinator?: Omit<DevnetCoordinatorOptions, 'schema'>;
  /** Where role output goes (default: kept in memory for `output()`). */
  onOutput?: (role: string, line: string) => void;
}

export class BridgeCluster {
  readonly processes = new Map<string, RoleProcess>();
  readonly configFile: string;
  readonly hubUrl: string;

  private constructor(private readonly o: BridgeClusterOptions) {
    this.configFile = join(o.dir, `${o.schemaPrefix}config.json`);
    this.hubUrl = `http://127.0.0.1:${o.apiPort}`;
  }

  static async start(o: BridgeClusterOptions): Promise<BridgeCluster> {
    const c = new BridgeCluster(o);
    try {
      if (o.fresh) await dropSchemas(o.databaseUrl, o.schemaPrefix);
      const cfg = devnetConfig(o.databaseUrl, o.apiPort, o.redisUrl, [...o.chains], {
        schema: `${o.schemaPrefix}hub`,
        confirmationBlocks: o.confirmationBlocks,
        solanaChains: [...(o.solanaChains ?? [])],
        ...(o.coordinator ? { coordinator: { ...o.coordinator, schema: `${o.schemaPrefix}coordinator` } } : {}),
      });
      writeFileSync(c.configFile, `${JSON.stringify({ ...cfg, databaseUrl: undefined, redisUrl: undefined }, null, 2)}\n`);
      c.startRole('processor', ['processor', '--config', c.configFile], devnetProducerEnv());
      await c.waitForHub();
      for (const r of c.roleSpecs()) c.startRole(r.name, r.args, r.env);
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  /** Starts (or restarts) one role process by name. */
  startRole(name: string, args: string[], env: Record<string, string>): RoleProcess {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      env: { ...process.env, ...env, PGAPPNAME: name, DATABASE_URL: this.o.databaseUrl, REDIS_URL: this.o.redisUrl, KLX_INSTANCE: name, KLX_API_PORT: String(this.o.apiPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (d: Buffer) => {
      const text = d.toString();
      if (this.o.onOutput) for (const line of text.split('\n')) if (line) this.o.onOutput(name, line);
      out = (out + text).slice(-200_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const p: RoleProcess = { name, child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
    this.processes.set(name, p);
    return p;
  }

  /** The role processes besides the processor: the bridge roles when a chain is bridged, and the coordinator when configured. */
  private roleSpecs(): ReturnType<typeof devnetRoleProcesses> {
    const bridged = this.o.chains.length + (this.o.solanaChains?.length ?? 0) > 0;
    const all = devnetRoleProcesses(this.configFile, this.o.schemaPrefix, this.o.coordinator !== undefined);
    return bridged ? all : all.filter((r) => r.name === 'coordinator');
  }

  /** Restarts a role with the arguments and keys it was started with. */
  restartRole(name: string, extraEnv: Record<string, string> = {}): RoleProcess {
    const spec = name === 'processor'
      ? { args: ['processor', '--config', this.configFile], env: devnetProducerEnv() }
      : this.roleSpecs().find((r) => r.name === name);
    if (!spec) throw new RangeError(`no role ${name}`);
    return this.startRole(name, spec.args, { ...spec.env, ...extraEnv });
  }

  /** kill -9 of one role, by its PID. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.processes.get(name);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill(signal);
    await p.exited;
  }

  private async waitForHub(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const proc = this.processes.get('processor');
      if (proc && proc.child.exitCode !== null) throw new Error(`the processor exited (${proc.child.exitCode}): ${proc.output().slice(-2000)}`);
      try {
        const r = await fetch(`${this.hubUrl}/health`);
        const body = (await r.json()) as { channels?: { channel: string; producing: boolean }[] };
        if (body.channels?.every((ch) => ch.producing)) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('the processor did not produce blocks within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const live = [...this.processes.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null);
    for (const p of live) p.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const p of live) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }, 5000);
    await Promise.all(live.map((p) => p.exited));
    clearTimeout(timer);
  }
}

async function dropSchemas(databaseUrl: string, prefix: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*_$/.test(prefix)) throw new RangeError(`schema prefix "${prefix}" must be an identifier ending in "_"`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, [prefix]);
    for (const row of r.rows) await client.query(`DROP SCHEMA "${row.nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}
