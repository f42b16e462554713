/**
 * The devnet: network "devnet", address prefix "klxd", two channels ("bridge", the
 * bridge channel, and "main"), each with a deterministic producer key and genesis
 * allocations to well-known devnet users. Devnet keys are public knowledge
 * (`klx-bridge keygen --devnet alice`): never use them for anything of value.
 */
import { addressFromPublicKey } from '../ledger/address.ts';
import { toHex } from '../ledger/bytes.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import type { RawConfig } from '../config/config.ts';

export const DEVNET_NETWORK = 'devnet';
export const DEVNET_PREFIX = 'klxd';
export const DEVNET_CHANNELS = ['bridge', 'main'] as const;
export const DEVNET_USERS = ['alice', 'bob', 'exchange'] as const;

export const devnetProducer = (channel: string) => Ed25519Signer.devnet(`producer:${channel}`);
export const devnetUser = (name: string) => Ed25519Signer.devnet(name);
export const devnetAddress = (name: string) => addressFromPublicKey(DEVNET_PREFIX, devnetUser(name).publicKey);

export function devnetConfig(databaseUrl: string, port: number, redisUrl?: string, evmChains: { name: string; rpcUrl: string; deploymentFile: string }[] = []): RawConfig {
  return {
    network: DEVNET_NETWORK,
    addressPrefix: DEVNET_PREFIX,
    databaseUrl,
    ...(redisUrl ? { redisUrl } : {}),
    schema: 'hub',
    instance: 'devnet',
    api: { host: '127.0.0.1', port },
    evmChains,
    channels: DEVNET_CHANNELS.map((name) => ({
      name,
      producerPublicKey: toHex(devnetProducer(name).publicKey),
      genesis: {
        timestampMs: '1767225600000',
        assets: [
          { id: 'KLX', decimals: 9 },
          { id: 'ETH', decimals: 18 },
        ],
        allocations: DEVNET_USERS.flatMap((u) => [
          { address: devnetAddress(u), asset: 'KLX', amount: '1000000000000000' },
          { address: devnetAddress(u), asset: 'ETH', amount: '100000000000000000000' },
        ]),
      },
    })),
  };
}

/** Environment entries that hand the devnet producer keys to the processors. */
export function devnetProducerEnv(): Record<string, string> {
  return Object.fromEntries(DEVNET_CHANNELS.map((c) => [`KLX_PRODUCER_KEY_${c.toUpperCase()}`, devnetProducer(c).exportSeedHex()]));
}
