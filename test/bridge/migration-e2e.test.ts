/**
 * Issue 6 end to end on the EVM devnet (anvil; the processor, 5 listeners, 3 approvers, the
 * submitter and the coordinator each a separate process): ERC20 KLX deposited on Ethereum
 * migrates to native KLX through the coordinator's two-phase commit; over a limit the
 * deposit is refunded on chain; a coordinator killed right after forcing a commit mints once
 * after its restart; the reverse path releases the ERC20; and the processor (both channels)
 * killed with SIGKILL while transfers between channels are in flight leaves every transfer
 * committed on both channels or aborted on both, with the total conserved. The tests share
 * one devnet and run in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { devnetAddress, devnetUser } from '../../relayer/devnet/devnet-config.ts';
import { DEVNET_EVM_USER_KEY } from '../../relayer/devnet/evm-keys.ts';
import { toHex } from '../../relayer/ledger/bytes.ts';
import { signTx } from '../../relayer/ledger/transaction.ts';
import type { ActionRecord } from '../../relayer/ledger/bridge-state.ts';
import type { MigrationRecord, MigrationSupply } from '../../relayer/ledger/migration-rules.ts';
import type { XferRecord } from '../../relayer/ledger/xfer-rules.ts';
import { ChannelClient } from '../../relayer/node/client.ts';
import { createPool } from '../../relayer/store/db.ts';
import { ChannelStore } from '../../relayer/store/channel-store.ts';
import { bridgeRecord, depositErc20, erc20Balance, startBridgeDevnet, type BridgeDevnet } from '../helpers/bridge-devnet.ts';
import { runCli, waitFor } from '../helpers/processes.ts';

const KLX = 10n ** 9n; // hub base units
const ERC20_UNIT = 10n ** 9n; // ERC20 KLX has 18 decimals: 1 hub unit = 1e9 ERC20 units
const PER_TRANSFER = 1_000n * KLX;
const PER_24H = 1_500n * KLX;
/** The test's own reading of two channel records (source, destination): committed on both, aborted at the source with nothing held at the destination, or not yet decided. */
const agreed = (s: string, t: string) => (s === 'committed' && t === 'committed' ? 'committed' : s === 'aborted' && t !== 'prepared' && t !== 'committed' ? 'aborted' : null);

describe('ERC20 KLX migration and inter-channel transfers under crashes, every role a process (EVM)', () => {
  let d: BridgeDevnet;
  const alice = devnetAddress('alice');
  const bob = devnetAddress('bob');
  const refundee = privateKeyToAccount(DEVNET_EVM_USER_KEY).address;
  const klxOf = async (address: string, channel = 'bridge') => BigInt((await new ChannelClient(d.cluster.hubUrl, channel).balances(address)).balances.KLX ?? '0');
  const token = () => d.evm.ethereum.chain.deployment.klxToken as Address;
  const bridgeErc20 = () => erc20Balance(d.evm.ethereum, token(), d.evm.ethereum.chain.deployment.bridge);
  /** Deposits ERC20 KLX from the treasury for alice (refunds to `refundee`); returns the migration once it is decided. */
  const migrate = async (hubAmount: bigint): Promise<MigrationRecord> => {
    const hash: Hex = await depositErc20(d.evm.ethereum, d.evm.ethereum.treasury, token(), hubAmount * ERC20_UNIT, alice, refundee);
    const eventId = await waitFor(`deposit ${hash} attested`, async () => {
      const r = await bridgeRecord<{ events: { eventId: string; outcome: string }[] }>(d, `events/ethereum?txHash=${hash}`);
      const ev = r?.events[0];
      if (ev) assert.equal(ev.outcome, 'migration', 'an ERC20 KLX deposit opens a migration, never a direct credit');
      return ev?.eventId;
    }, 60_000);
    return decided(eventId);
  };
  const decided = (eventId: string) =>
    waitFor(`migration ${eventId} decided`, async () => {
      const m = await bridgeRecord<MigrationRecord>(d, `migration/ethereum/${eventId}`);
      return m && (m.status === 'committed' || m.status === 'aborted') ? m : null;
    }, 60_000);
  const settled = (id: string) =>
    waitFor(`action ethereum/${id} settled`, async () => {
      const a = await bridgeRecord<ActionRecord>(d, `action/ethereum/${id}`);
      return a && a.status !== 'created' && a.status !== 'signed' ? a : null;
    }, 90_000);
  const supply = async () => (await bridgeRecord<MigrationSupply>(d, 'migration-supply/ethereum')) ?? { minted: '0', reserved: '0' };
  /** Native KLX minted by migration minus KLX withdrawn back to Ethereum = the ERC20 the bridge holds (in hub units). */
  const assertMigrationBacked = async (returned: bigint) => {
    const s = await supply();
    assert.equal(s.reserved, '0');
    assert.equal((await bridgeErc20()) / ERC20_UNIT, BigInt(s.minted) - returned, 'minted - returned = ERC20 held by the bridge');
  };

  before(async () => {
    d = await startBridgeDevnet('migration', { coordinator: { migration: { perTransfer: PER_TRANSFER.toString(), per24h: PER_24H.toString() }, voteTimeoutMs: 2000, resolverAfterMs: 1500 } });
    await waitFor('migration configured and channels linked', async () =>
      (await bridgeRecord(d, 'migration-config/ethereum')) !== null && (await new ChannelClient(d.cluster.hubUrl, 'main').bridgeRecordAt('xlink/bridge').catch(() => null)) !== null, 60_000);
    await waitFor('coordinator active', async () => ((await (await fetch(`${d.coordinatorUrl}/health`).catch(() => null))?.json()) as { status?: string } | undefined)?.status === 'active');
  });
  after(async () => {
    await d?.stop();
  });

  it('migrates within the limits, refunds on chain over the per-transfer and the 24 h limits', async () => {
    const before = await klxOf(alice);
    const first = await migrate(900n * KLX);
    assert.equal(first.status, 'committed');
    assert.equal(await klxOf(alice), before + 900n * KLX);
    assert.equal((await supply()).minted, (900n * KLX).toString());

    for (const [amount, reason] of [[PER_TRANSFER + 1n, 'per transfer'], [601n * KLX, 'per 24 h (900 + 601 > 1500)']] as const) {
      const refundeeBefore = await erc20Balance(d.evm.ethereum, token(), refundee);
      const m = await migrate(amount);
      assert.equal(m.status, 'aborted', `over the limit ${reason}: refunded`);
      const action = await settled(m.refundAction ?? '');
      assert.equal(action.status, 'executed');
      assert.equal(await erc20Balance(d.evm.ethereum, token(), refundee), refundeeBefore + amount * ERC20_UNIT, 'the ERC20 went back to the refund address');
    }
    assert.equal(await klxOf(alice), before + 900n * KLX, 'nothing minted for refunded deposits');
    await assertMigrationBacked(0n);
  });

  it('a coordinator killed right after forcing a migration commit: the restarted one mints exactly once', async () => {
    await d.cluster.kill('coordinator');
    const crashing = d.cluster.restartRole('coordinator', { KLX_COORDINATOR_CRASH_AT: 'decided:commit' });
    const before = await klxOf(alice);
    const hash = await depositErc20(d.evm.ethereum, d.evm.ethereum.treasury, token(), 50n * KLX * ERC20_UNIT, alice, refundee);
    assert.equal(await crashing.exited, null, 'killed by SIGKILL at the drill point');
    const eventId = (await bridgeRecord<{ events: { eventId: string }[] }>(d, `events/ethereum?txHash=${hash}`))?.events[0]?.eventId ?? '';
    const held = await bridgeRecord<MigrationRecord>(d, `migration/ethereum/${eventId}`);
    assert.equal(held?.status, 'prepared', 'the channel holds it prepared: the commit was never delivered');
    assert.equal(await klxOf(alice), before);
    d.cluster.restartRole('coordinator');
    assert.equal((await decided(eventId)).status, 'committed');
    assert.equal(await klxOf(alice), before + 50n * KLX);
    assert.equal((await supply()).minted, (950n * KLX).toString(), 'minted once');
    await assertMigrationBacked(0n);
  });

  it('the reverse path: withdrawing native KLX to Ethereum releases the ERC20 and keeps the migration backed', async () => {
    const before = await erc20Balance(d.evm.ethereum, token(), refundee);
    const nonce = await d.hub.nextNonce(alice, 9);
    const receipt = await d.hub.submit(signTx({ network: 'devnet', channel: 'bridge', type: 'withdraw', sender: alice, lane: 9, nonce, body: { chain: 'ethereum', asset: 'KLX', amount: (30n * KLX).toString(), recipient: refundee } }, devnetUser('alice')));
    const id = (await bridgeRecord<{ records: ActionRecord[] }>(d, 'action/ethereum'))?.records.find((a) => a.withdrawTx === receipt.txId)?.actionId ?? '';
    assert.equal((await settled(id)).status, 'executed');
    assert.equal(await erc20Balance(d.evm.ethereum, token(), refundee), before + 30n * KLX * ERC20_UNIT);
    await assertMigrationBacked(30n * KLX);
  });

  it('the processor killed with SIGKILL while transfers between channels are in flight: each ends committed on both channels or aborted on both, the total conserved', async () => {
    const main = new ChannelClient(d.cluster.hubUrl, 'main');
    const bridge = d.hub;
    const total = async () => (await klxOf(alice)) + (await klxOf(bob, 'main'));
    const start = await total();
    const aliceStart = await klxOf(alice);
    const transfer = async (i: number) => {
      const req = signTx({ network: 'devnet', channel: 'bridge', type: 'xfer-request', sender: alice, lane: 0, nonce: BigInt(1_000 + i), body: { to: 'main', recipient: bob, asset: 'KLX', amount: (KLX + BigInt(i)).toString() } }, devnetUser('alice'));
      const r = await fetch(`${d.coordinatorUrl}/v1/transfers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: toHex(req.encoded) }) });
      assert.equal(r.status, 202, await r.clone().text());
      return { id: ((await r.json()) as { id: string }).id, amount: KLX + BigInt(i) };
    };
    // One round: 24 transfers, the processor killed once the protocol is under way. On a
    // fast machine every transfer may already be decided when the kill lands; such a round
    // proves nothing about a crash mid-protocol, so another round follows (at most 5).
    const BATCH = 24;
    let inFlight = 0;
    let moved = 0n;
    for (let round = 0; round < 5 && inFlight === 0; round++) {
      const sent = await Promise.all(Array.from({ length: BATCH }, (_, i) => transfer(round * BATCH + i)));
      const ids = sent.map((t) => t.id);
      await waitFor('a transfer prepared', async () => (await bridge.bridgeRecordAt<XferRecord>(`xfer/${ids[0] ?? ''}`).catch(() => null)) !== null, 30_000);
      await d.cluster.kill('processor');
      // The channels' state as the killed processor left it (read from PostgreSQL: its API died with it).
      const pool = createPool(d.db.url, 2);
      const stores = ['bridge', 'main'].map((c) => new ChannelStore(pool, `${d.schemaPrefix}hub`, c));
      const frozen = await Promise.all(ids.map((id) => Promise.all(stores.map((s) => s.record(`xfer/${id}`).then((r) => (r as XferRecord | null)?.status ?? 'none')))));
      await pool.end();
      inFlight = frozen.filter(([s, t]) => agreed(s ?? 'none', t ?? 'none') === null).length;
      d.cluster.restartRole('processor');
      const outcomes = await waitFor('every transfer decided on both channels', async () => {
        const out: string[] = [];
        for (const id of ids) {
          const [s, t] = await Promise.all([bridge, main].map((c) => c.bridgeRecordAt<XferRecord>(`xfer/${id}`).then((x) => x.status, () => 'none')));
          const o = agreed(s ?? 'none', t ?? 'none');
          if (!o) return null;
          out.push(o);
        }
        return out;
      }, 120_000);
      assert.equal(outcomes.length, ids.length);
      assert.equal(await total(), start, 'alice on bridge + bob on main unchanged in total: nothing created or lost');
      moved += sent.reduce((sum, t, i) => (outcomes[i] === 'committed' ? sum + t.amount : sum), 0n);
      assert.equal(await klxOf(alice), aliceStart - moved, 'exactly the committed transfers left the source');
      console.log(`# processor kill, round ${round + 1}: ${inFlight} of ${ids.length} transfers in flight; ${outcomes.filter((o) => o === 'committed').length} committed, ${outcomes.filter((o) => o === 'aborted').length} aborted`);
    }
    assert.ok(inFlight > 0, 'in 5 rounds the kill never landed while a transfer was undecided on some channel');
  });

  it('every participant step is a hub transaction: the audit replays both channels from genesis and counts them', async () => {
    const counts: Record<string, Record<string, number>> = {};
    for (const channel of ['bridge', 'main']) {
      const r = await runCli(['audit', '--channel', channel, '--config', d.cluster.configFile], { DATABASE_URL: d.db.url });
      assert.equal(r.code, 0, r.output);
      const out = JSON.parse(r.output.slice(r.output.indexOf('{'))) as { result: string; transactions: Record<string, number> };
      assert.equal(out.result, 'ok');
      counts[channel] = out.transactions;
    }
    const [bridge, main] = [counts.bridge ?? {}, counts.main ?? {}];
    console.log(`# audit transaction counts: bridge ${JSON.stringify(bridge)}; main ${JSON.stringify(main)}`);
    assert.ok((bridge['migrate-commit'] ?? 0) >= 2 && (bridge['migrate-abort'] ?? 0) >= 2 && (bridge['migrate-prepare'] ?? 0) >= 2, JSON.stringify(bridge));
    for (const [name, c] of Object.entries(counts)) {
      // The 24 transfers of the processor-kill test: each ends in a commit or an abort tombstone on each channel; a commit needs a prepare.
      assert.ok((c['xfer-commit'] ?? 0) + (c['xfer-abort'] ?? 0) >= 24, `${name}: ${JSON.stringify(c)}`);
      assert.ok((c['xfer-prepare'] ?? 0) >= (c['xfer-commit'] ?? 0) && (c['xfer-commit'] ?? 0) > 0, `${name}: ${JSON.stringify(c)}`);
    }
    assert.equal(bridge['xfer-commit'], main['xfer-commit'], 'the same transfers committed on both channels');
  });
});
