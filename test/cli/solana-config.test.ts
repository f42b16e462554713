/**
 * Solana in the config (issue 7): `solanaChains` plus a deployment record derive the adapter
 * and the chain registration every role checks against the hub; a bad value is a ConfigError
 * naming the field; a role without its Solana key exits 2 at start-up naming the variable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Keypair } from '@solana/web3.js';
import { NATIVE_MINT } from '@solana/spl-token';
import { parseConfig, type RawConfig } from '../../relayer/config/config.ts';
import { configuredChains } from '../../relayer/bridge/bridge-setup.ts';
import { ConfigError } from '../../relayer/ledger/errors.ts';
import type { SolanaDeployment } from '../../adapters/solana/deployment.ts';
import { user } from '../helpers/channel.ts';
import { testConfig } from '../helpers/node.ts';
import { runCli, writeTempJson } from '../helpers/processes.ts';

const key = () => Keypair.generate().publicKey.toBase58();
const deployment: SolanaDeployment = {
  family: 'solana',
  cluster: 'bankrun',
  multisig: key(),
  processor: key(),
  approvers: [key(), key(), key()],
  approverQuorum: 2,
  nonceAccount: key(),
  feePayer: key(),
  klxMint: key(),
  klxDecimals: 7,
  startSlot: '5',
};
const deploymentFile = writeTempJson('solana.json', deployment);
const roles = { listeners: [0, 1, 2].map((i) => user(`sc-l${i}`).address), approvers: [0, 1, 2].map((i) => user(`sc-a${i}`).address) };

function config(solanaChains: unknown, extra: Partial<RawConfig> = {}): RawConfig {
  return testConfig('postgres://postgres@127.0.0.1:1/none', [user('sc')], ['bridge'], {
    bridge: { channel: 'bridge', listeners: roles.listeners, listenerQuorum: 2, approvers: roles.approvers, approverQuorum: 2 },
    solanaChains: solanaChains as RawConfig['solanaChains'],
    ...extra,
  });
}
const chain = (assets: unknown[], file = deploymentFile) => [{ name: 'solana', rpcUrl: 'http://127.0.0.1:8899', deploymentFile: file, assets }];

describe('Solana chains in the config', () => {
  it('derives the adapter and the registration from the deployment record: bridged KLX minted, wrapped SOL locked', () => {
    const [c, ...rest] = configuredChains(parseConfig(config(chain([{ hubAsset: 'KLX', chainAsset: 'klx' }, { hubAsset: 'SOL', chainAsset: 'sol' }])), {}));
    assert.equal(rest.length, 0);
    assert.ok(c);
    assert.equal(c.adapter.family, 'solana');
    assert.deepEqual(
      { chain: c.registration.chain, family: c.registration.family, chainRef: c.registration.chainRef, custody: c.registration.custody },
      { chain: 'solana', family: 'solana', chainRef: 'bankrun', custody: deployment.multisig },
    );
    assert.deepEqual(c.registration.assets, [
      { hubAsset: 'KLX', chainAsset: deployment.klxMint, chainDecimals: 7, mode: 'mint' },
      { hubAsset: 'SOL', chainAsset: NATIVE_MINT.toBase58(), chainDecimals: 9, mode: 'lock' },
    ]);
    assert.equal(c.assets.get(deployment.klxMint ?? '')?.hubDecimals, 9);
  });

  const bad: [string, () => RawConfig, RegExp][] = [
    ['a chain name used by an EVM chain too', () => config(chain([]), { evmChains: [{ name: 'solana', rpcUrl: 'http://x', deploymentFile: '/nope' }] }), /solanaChains\.0\.name: chain "solana" appears twice/],
    ['an SPL mint without its decimals', () => config(chain([{ hubAsset: 'KLX', chainAsset: key() }])), /solanaChains\.0\.assets\.0\.decimals: required/],
    ['an asset that is neither klx, sol nor a mint', () => config(chain([{ hubAsset: 'KLX', chainAsset: 'wsol' }])), /solanaChains\.0\.assets\.0\.chainAsset/],
    ['a non-http RPC URL', () => config([{ ...chain([])[0], rpcUrl: 'ws://127.0.0.1:8900' }]), /solanaChains\.0\.rpcUrl/],
  ];
  for (const [what, make, reason] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(() => parseConfig(make(), {}), (e) => e instanceof ConfigError && reason.test(e.message));
    });
  }

  it('refuses a missing or malformed deployment record and decimals that contradict the chain', () => {
    const derive = (c: RawConfig) => () => configuredChains(parseConfig(c, {}));
    assert.throws(derive(config(chain([], '/nonexistent/solana.json'))), (e) => e instanceof ConfigError && /cannot read the Solana deployment file/.test(e.message));
    const broken = writeTempJson('solana.json', { ...deployment, approverQuorum: 0, multisig: 'not-base58!' });
    assert.throws(derive(config(chain([], broken))), (e) => e instanceof ConfigError && /approverQuorum/.test(e.message) && /multisig: a base58 public key/.test(e.message));
    assert.throws(derive(config(chain([{ hubAsset: 'SOL', chainAsset: 'sol', decimals: 6 }]))), (e) => e instanceof ConfigError && /has 9 decimals, not 6/.test(e.message));
    assert.throws(derive(config(chain([{ hubAsset: 'DOGE', chainAsset: 'sol' }]))), (e) => e instanceof ConfigError && /hub asset DOGE is not an asset of channel bridge/.test(e.message));
  });

  it('an approver without KLX_CHAIN_KEY_SOLANA exits 2 at start-up naming the variable, never a key', async () => {
    const path = writeTempJson('cfg.json', config(chain([{ hubAsset: 'KLX', chainAsset: 'klx' }]), { log: { level: 'trace' } }));
    const hubKey = 'cd'.repeat(32);
    const evmKey = `0x${'ef'.repeat(32)}`;
    const r = await runCli(['approver', '--config', path], { KLX_HUB_KEY: hubKey, KLX_CHAIN_KEY_EVM: evmKey, KLX_CHAIN_KEY_SOLANA: '', DATABASE_URL: '' });
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /KLX_CHAIN_KEY_SOLANA/);
    assert.ok(!r.output.includes(hubKey) && !r.output.includes(evmKey.slice(2)));
  });
});
