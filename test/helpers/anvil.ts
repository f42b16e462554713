/** A local anvil node owned by a test: started on a free port, killed by PID at the end. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, waitFor } from './processes.ts';

/** The default anvil accounts' first key (public knowledge; test chains only). */
export const ANVIL_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const ANVIL_ADDRESS_0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

export interface Anvil {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function anvilBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil');
}

export interface AnvilOptions {
  /** anvil reports `safe` = latest − S and `finalized` = latest − 2S for S slots per epoch (default 32). */
  slotsInAnEpoch?: number;
}

export async function startAnvil(chainId: number, options: AnvilOptions = {}): Promise<Anvil> {
  const port = await freePort();
  const args = ['--port', String(port), '--host', '127.0.0.1', '--chain-id', String(chainId), '--silent'];
  if (options.slotsInAnEpoch !== undefined) args.push('--slots-in-an-epoch', String(options.slotsInAnEpoch));
  const child = spawn(anvilBinary(), args, { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`anvil on ${port}`, async () => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' });
      return r.ok;
    });
  } catch (err) {
    // A node that never answered is still ours to stop.
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
