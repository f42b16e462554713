/** An in-process channel node (processors + API) on a test database. */
import pg from 'pg';
import { parseConfig, type RawConfig } from '../../relayer/config/config.ts';
import { decodeBlock } from '../../relayer/ledger/block.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { ChannelNode } from '../../relayer/node/channel-node.ts';
import { klxEthChannel } from '../../relayer/devnet/devnet-config.ts';
import { ChannelClient } from '../../relayer/node/client.ts';
import { createLogger } from '../../relayer/observability/observability.ts';
import { NETWORK, PREFIX, producerKey, type TestUser } from './channel.ts';
import type { TestDatabase } from './db.ts';

export function testConfig(databaseUrl: string, funded: TestUser[], channels = ['bridge'], extra: Partial<RawConfig> = {}): RawConfig {
  return {
    network: NETWORK,
    addressPrefix: PREFIX,
    databaseUrl,
    schema: 'hub',
    api: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
    channels: channels.map((name) =>
      klxEthChannel(name, producerKey(name).publicKey, '1700000000000', funded.map((u) => ({ address: u.address, klx: '1000000000', eth: '1000000000' }))),
    ),
    ...extra,
  };
}

export function producerEnv(channels = ['bridge']): Record<string, string> {
  return Object.fromEntries(channels.map((c) => [`KLX_PRODUCER_KEY_${c.toUpperCase()}`, producerKey(c).exportSeedHex()]));
}

export async function startTestNode(db: TestDatabase, funded: TestUser[], channels = ['bridge']) {
  const env = { ...producerEnv(channels) };
  Object.assign(process.env, env);
  const cfg = parseConfig(testConfig(db.url, funded, channels), {});
  const node = new ChannelNode(cfg, createLogger('silent'));
  const { port } = await node.start();
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (node.processors.every((p) => p.isLeader)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { node, url, client: (channel = 'bridge') => new ChannelClient(url, channel), stop: () => node.stop() };
}

/** Everything a rejected transaction must leave untouched. */
export async function snapshot(pool: pg.Pool, channel = 'bridge', schema = 'hub') {
  const head = await pool.query<{ height: bigint; body: Buffer; signature: Buffer }>(
    `SELECT height, body, signature FROM ${schema}.blocks WHERE channel = $1 ORDER BY height DESC LIMIT 1`,
    [channel],
  );
  const row = head.rows[0];
  const commitment = row ? toHex(decodeBlock(new Uint8Array(row.body), new Uint8Array(row.signature)).stateCommitment) : null;
  const balances = await pool.query(`SELECT address, asset, amount::text FROM ${schema}.balances WHERE channel = $1 ORDER BY 1, 2`, [channel]);
  const nonces = await pool.query(`SELECT address, lane, next_nonce::text FROM ${schema}.nonces WHERE channel = $1 ORDER BY 1, 2`, [channel]);
  const count = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.blocks WHERE channel = $1`, [channel]);
  return { height: row?.height ?? -1n, commitment, blocks: count.rows[0]?.n, balances: balances.rows, nonces: nonces.rows };
}
