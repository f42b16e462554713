/** A devnet-like channel for tests: deterministic keys, a genesis with funded users, and a tx builder. */
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import { Ed25519Signer } from '../../relayer/ledger/keys.ts';
import { signTx, type ChannelContext, type SignedTx } from '../../relayer/ledger/transaction.ts';
import type { GenesisSpec } from '../../relayer/processor/genesis.ts';

export const NETWORK = 'devnet';
export const PREFIX = 'klxd';

export function context(channel = 'bridge'): ChannelContext {
  return { network: NETWORK, channel, addressPrefix: PREFIX };
}

export interface TestUser {
  name: string;
  key: Ed25519Signer;
  address: string;
}

export function user(name: string): TestUser {
  const key = Ed25519Signer.devnet(`test-user:${name}`);
  return { name, key, address: addressFromPublicKey(PREFIX, key.publicKey) };
}

export function producerKey(channel = 'bridge'): Ed25519Signer {
  return Ed25519Signer.devnet(`test-producer:${channel}`);
}

export function genesisFor(users: TestUser[], amount = 1_000_000_000n): GenesisSpec {
  return {
    timestampMs: 1_700_000_000_000n,
    assets: [
      { id: 'KLX', decimals: 9 },
      { id: 'ETH', decimals: 18 },
    ],
    allocations: users.flatMap((u) => [
      { address: u.address, asset: 'KLX', amount },
      { address: u.address, asset: 'ETH', amount },
    ]),
  };
}

export function transfer(
  from: TestUser,
  to: string,
  amount: bigint,
  nonce: bigint,
  opts: { asset?: string; lane?: number; channel?: string; network?: string } = {},
): SignedTx {
  return signTx(
    {
      network: opts.network ?? NETWORK,
      channel: opts.channel ?? 'bridge',
      type: 'transfer',
      sender: from.address,
      lane: opts.lane ?? 0,
      nonce,
      body: { to, asset: opts.asset ?? 'KLX', amount, memo: '' },
    },
    from.key,
  );
}
