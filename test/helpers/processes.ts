/**
 * Child processes owned by a test: started with the repository's CLI, tracked by PID,
 * and killed (only they) when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../relayer/cli/klx-bridge.mjs', import.meta.url));

export interface OwnedProcess {
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<number | null>;
}

export class ProcessGroup {
  private readonly owned: OwnedProcess[] = [];

  start(args: string[], env: Record<string, string> = {}): OwnedProcess {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const p = { child, pid: child.pid ?? -1, output: () => out, exited };
    this.owned.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    for (const p of this.owned) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        try {
          process.kill(p.pid, 'SIGCONT');
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await Promise.all(this.owned.map((p) => p.exited));
  }
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const g = new ProcessGroup();
  const p = g.start(args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}

export function writeTempJson(name: string, value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'klx-test-'));
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

export async function waitFor<T>(what: string, f: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve().then(f).catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { freePort } from '../../relayer/devnet/services.ts';
