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

/** A channel with the two devnet assets (KLX, 9 decimals; ETH, 18) and funded addresses. */
export function klxEthChannel(name: string, producerPublicKey: Uint8Array, timestampMs: string, funded: { address: string; klx: string; eth: string }[]) {
  return {
    name,
    producerPublicKey: toHex(producerPublicKey),
    genesis: {
      timestampMs,
      assets: [
        { id: 'KLX', decimals: 9 },
        { id: 'ETH', decimals: 18 },
      ],
      allocations: funded.flatMap((f) => [
        { address: f.address, asset: 'KLX', amount: f.klx },
        { address: f.address, asset: 'ETH', amount: f.eth },
      ]),
    },
  };
}

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
    channels: DEVNET_CHANNELS.map((name) =>
      klxEthChannel(
        name,
        devnetProducer(name).publicKey,
        '1767225600000',
        DEVNET_USERS.map((u) => ({ address: devnetAddress(u), klx: '1000000000000000', eth: '100000000000000000000' })),
      ),
    ),
  };
}

/** Environment entries that hand the devnet producer keys to the processors. */
export function devnetProducerEnv(): Record<string, string> {
  return Object.fromEntries(DEVNET_CHANNELS.map((c) => [`KLX_PRODUCER_KEY_${c.toUpperCase()}`, devnetProducer(c).exportSeedHex()]));
}
