/** `klx-bridge deploy evm` against real anvil nodes (chain ids 1 and 137): addresses written, contracts live. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPublicClient, getAddress, http, parseAbi } from 'viem';
import { readEvmDeployment } from '../../adapters/evm/deployment.ts';
import { ensureContractsBuilt } from './evm-chain.ts';
import { ANVIL_ADDRESS_0, ANVIL_KEY_0, startAnvil, type Anvil } from '../helpers/anvil.ts';
import { runCli } from '../helpers/processes.ts';
import { setArg, validators } from './bridge-fixture.ts';

describe('klx-bridge deploy evm', () => {
  let ethereum: Anvil;
  let polygon: Anvil;
  const dir = mkdtempSync(join(tmpdir(), 'klx-deploy-'));
  const keyFile = join(dir, 'deployer.key');
  const v = setArg(validators(3, 2, 3, 2, 'deploy'));
  const common = ['--processor', v.processor, '--approvers', v.approvers.join(','), '--approver-quorum', '2', '--listeners', v.listeners.join(','), '--listener-quorum', '2', '--deployer-key-file', keyFile];

  before(async () => {
    await ensureContractsBuilt();
    writeFileSync(keyFile, ANVIL_KEY_0, { mode: 0o600 });
    [ethereum, polygon] = await Promise.all([startAnvil(1), startAnvil(137)]);
  });
  after(async () => {
    await Promise.all([ethereum?.stop(), polygon?.stop()]);
  });

  it('deploys the ERC20 KLX and the bridge on chain 1 and writes a deployment record the relayer can read', async () => {
    const out = join(dir, 'ethereum.json');
    const r = await runCli(['deploy', 'evm', '--rpc-url', ethereum.url, '--klx', 'erc20', '--treasury', ANVIL_ADDRESS_0, '--rotation-delay', '600', '--out', out, ...common]);
    assert.equal(r.code, 0, r.output);
    assert.ok(!r.output.includes(ANVIL_KEY_0.slice(2)), 'the deployer key was printed');
    const d = readEvmDeployment(out);
    assert.equal(d.chainId, 1);
    assert.equal(d.klxKind, 'erc20');
    const client = createPublicClient({ transport: http(ethereum.url) });
    const abi = parseAbi(['function processor() view returns (address)', 'function rotationDelay() view returns (uint64)', 'function tokenSettings(address) view returns (bool, bool, uint256)', 'function balanceOf(address) view returns (uint256)']);
    assert.equal(await client.readContract({ address: d.bridge, abi, functionName: 'processor' }), getAddress(v.processor));
    assert.equal(await client.readContract({ address: d.bridge, abi, functionName: 'rotationDelay' }), 600n);
    assert.deepEqual(await client.readContract({ address: d.bridge, abi, functionName: 'tokenSettings', args: [d.klxToken!] }), [true, false, (1n << 256n) - 1n]);
    assert.equal(await client.readContract({ address: d.klxToken!, abi, functionName: 'balanceOf', args: [ANVIL_ADDRESS_0] }), 480_000_000_000n * 10n ** 18n);
  });

  it('deploys a bridged KLX minted only by the bridge on chain 137', async () => {
    const out = join(dir, 'polygon.json');
    const r = await runCli(['deploy', 'evm', '--rpc-url', polygon.url, '--klx', 'bridged', '--klx-daily-cap', '1000', '--out', out, ...common]);
    assert.equal(r.code, 0, r.output);
    const d = JSON.parse(readFileSync(out, 'utf8')) as { chainId: number; bridge: `0x${string}`; klxToken: `0x${string}`; klxKind: string };
    assert.equal(d.chainId, 137);
    assert.equal(d.klxKind, 'bridged');
    const client = createPublicClient({ transport: http(polygon.url) });
    const abi = parseAbi(['function bridge() view returns (address)', 'function tokenSettings(address) view returns (bool, bool, uint256)']);
    assert.equal(await client.readContract({ address: d.klxToken, abi, functionName: 'bridge' }), getAddress(d.bridge));
    assert.deepEqual(await client.readContract({ address: d.bridge, abi, functionName: 'tokenSettings', args: [d.klxToken] }), [true, true, 1000n]);
  });

  it('refuses bad input with the field named, deploying nothing', async () => {
    const bad = await runCli(['deploy', 'evm', '--rpc-url', ethereum.url, ...common.map((x) => (x === '2' ? 'two' : x))]);
    assert.equal(bad.code, 2);
    assert.match(bad.output, /--approverQuorum/);
    const badAddress = await runCli(['deploy', 'evm', '--rpc-url', ethereum.url, ...common.map((x) => (x === v.processor ? '0x1234' : x))]);
    assert.equal(badAddress.code, 2);
    assert.match(badAddress.output, /--processor: an EVM address/);
    const weak = await runCli(['deploy', 'evm', '--rpc-url', ethereum.url, '--out', join(dir, 'weak.json'), ...common.map((x, i) => (common[i - 1] === '--approver-quorum' ? '1' : x))]);
    assert.notEqual(weak.code, 0, 'a 1-of-3 approver quorum is refused by the contract');
  });
});
