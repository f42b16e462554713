/** Several processor processes (`klx-bridge processor`) on one database: the HA tests' cluster. */
import { ChannelClient, ApiError } from '../../relayer/node/client.ts';
import type { Receipt } from '../../relayer/processor/processor.ts';
import type { SignedTx } from '../../relayer/ledger/transaction.ts';
import type { TestUser } from './channel.ts';
import type { TestDatabase } from './db.ts';
import { producerEnv, testConfig } from './node.ts';
import { ProcessGroup, waitFor, writeTempJson, type OwnedProcess } from './processes.ts';

export interface ClusterNode {
  name: string;
  port: number;
  url: string;
  proc: OwnedProcess;
}

export class ProcessorCluster {
  readonly group = new ProcessGroup();
  readonly nodes: ClusterNode[] = [];
  private readonly configPath: string;

  private readonly databaseUrl: string;

  constructor(db: TestDatabase, funded: TestUser[], logLevel: 'info' = 'info') {
    this.databaseUrl = db.url;
    this.configPath = writeTempJson('config.json', testConfig(db.url, funded, ['bridge'], { log: { level: logLevel } }));
  }

  /** Starts a processor process; the OS picks its API port (0), read back from its start-up log. */
  async add(name: string): Promise<ClusterNode> {
    const proc = this.group.start(['processor', '--config', this.configPath], { ...producerEnv(), DATABASE_URL: this.databaseUrl, KLX_API_PORT: '0', KLX_INSTANCE: name });
    const port = await waitFor(`${name} API`, () => {
      const m = /"port":(\d+)[^\n]*"msg":"channel node API listening"/.exec(proc.output());
      return m?.[1] ? Number(m[1]) : undefined;
    });
    const node = { name, port, url: `http://127.0.0.1:${port}`, proc };
    this.nodes.push(node);
    await waitFor(`${name} API`, async () => (await fetch(`${node.url}/health`)).ok);
    return node;
  }

  alive(): ClusterNode[] {
    return this.nodes.filter((n) => n.proc.child.exitCode === null && n.proc.child.signalCode === null);
  }

  async leader(timeoutMs = 30_000, among = this.alive()): Promise<ClusterNode> {
    return waitFor(
      'a leader',
      async () => {
        for (const n of among) {
          const h = (await (await fetch(`${n.url}/health`, { signal: AbortSignal.timeout(1000) })).json()) as { channels: { producing: boolean }[] };
          if (h.channels[0]?.producing) return n;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Submits the same signed transaction to live nodes until one acknowledges it (retriable errors only). */
  async submitUntilAcked(tx: SignedTx, deadlineMs = 60_000): Promise<Receipt> {
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const nodes = this.alive();
      const n = nodes[attempt % Math.max(1, nodes.length)];
      if (n) {
        try {
          return await new ChannelClient(n.url, 'bridge').submit(tx);
        } catch (e) {
          if (!(e instanceof ApiError) || !e.retriable) throw e;
        }
      }
      if (Date.now() > deadline) throw new Error('transaction not acknowledged before the deadline');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): Promise<void> {
    return this.group.stopAll();
  }
}
