/** What token holders' commands share: hub connection options, the sender's key file, sign and submit. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addressFromPublicKey } from '../ledger/address.ts';
import { ConfigError } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { signTx } from '../ledger/transaction.ts';
import type { TxBodies, TxType } from '../ledger/tx-bodies.ts';
import type { Receipt } from '../processor/processor.ts';
import { ChannelClient } from '../node/client.ts';

export const DEFAULT_NODE = process.env.KLX_NODE_URL ?? 'http://127.0.0.1:8645';

export interface HubOptions {
  network: string;
  prefix: string;
  channel: string;
  lane: string;
  node: string;
}

/** Adds the options every signing user command takes. */
export function withHubOptions(cmd: Command): Command {
  return cmd
    .option('--network <name>', 'network', 'devnet')
    .option('--prefix <prefix>', 'address prefix', 'klxd')
    .option('--channel <name>', 'channel', 'bridge')
    .option('--lane <n>', 'nonce lane', '0')
    .option('--node <url>', 'channel node API', DEFAULT_NODE);
}

export function readSeedFile(file: string): Ed25519Signer {
  try {
    return Ed25519Signer.fromSeedHex(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`cannot read an ed25519 seed from ${file}`);
  }
}

/** Signs `body` with the key in `keyFile` at the sender's next nonce and submits it; returns once the block is durable. */
export async function signAndSubmit<T extends TxType>(o: HubOptions & { keyFile: string }, type: T, body: TxBodies[T]): Promise<{ receipt: Receipt; sender: string; client: ChannelClient }> {
  const key = readSeedFile(o.keyFile);
  if (!/^[0-9]{1,5}$/.test(o.lane) || Number(o.lane) > 65535) throw new ConfigError('--lane must be an integer from 0 to 65535');
  const lane = Number(o.lane);
  const sender = addressFromPublicKey(o.prefix, key.publicKey);
  const client = new ChannelClient(o.node, o.channel);
  const nonce = await client.nextNonce(sender, lane);
  const tx = signTx({ network: o.network, channel: o.channel, type, sender, lane, nonce, body }, key);
  return { receipt: await client.submit(tx), sender, client };
}
