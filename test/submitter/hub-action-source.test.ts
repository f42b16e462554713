import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChainAdapter, SignatureShare, SignedAction, UnsignedAction } from '../../adapters/chain-adapter.ts';
import type { HubView } from '../../relayer/bridge/hub-view.ts';
import { keys, type ActionRecord } from '../../relayer/ledger/bridge-state.ts';
import { canonicalBytes, type CanonicalValue } from '../../relayer/ledger/canonical-json.ts';
import { LedgerState } from '../../relayer/ledger/state.ts';
import { HubActionSource } from '../../relayer/submitter/hub-action-source.ts';

const share = (signer: string, payloadHash: string) => ({ actionId: '0', payloadHash, signer, signature: `0x${signer.slice(2).padEnd(130, '0')}` });

function action(id: number, recipient: string, status: ActionRecord['status'] = 'signed'): ActionRecord {
  const payloadHash = `0x${recipient.slice(2).padStart(64, '0')}`;
  return {
    actionId: String(id), kind: 'release', owner: null, hubAsset: 'KLX', hubAmount: '1', chainAsset: 'KLX', recipient, chainAmount: '1', withdrawTx: '0x00', returnOf: null, status, payloadHash,
    approvals: { a: share('0xa1', payloadHash), b: share('0xb2', payloadHash) }, processor: share('0xc3', payloadHash), execution: null,
  };
}

/** An adapter that counts its assemblies (each one costs signer recoveries in a real adapter). */
function countingAdapter() {
  const assembled: string[] = [];
  const adapter = {
    buildAction: (a: { actionId: bigint; recipient: string; context: string }): UnsignedAction => ({ chain: 'ethereum', actionId: a.actionId, payloadHash: `0x${a.recipient.slice(2).padStart(64, '0')}`, context: a.context, payload: a.recipient }),
    assemble: (u: UnsignedAction, shares: SignatureShare[]): SignedAction => {
      assembled.push(`${u.actionId}:${String(u.payload)}`);
      return { chain: u.chain, actionId: u.actionId, payloadHash: u.payloadHash, payload: { to: u.payload, signers: shares.map((s) => s.signer) } };
    },
  } as unknown as ChainAdapter;
  return { adapter, assembled };
}

describe('HubActionSource', () => {
  it('assembles each signed action once, and again only when the hub rewrites its record', async () => {
    const state = new LedgerState();
    const put = (a: ActionRecord) => state.entries.set(keys.action('ethereum', a.actionId), canonicalBytes(a as unknown as CanonicalValue));
    put(action(1, '0x11'));
    put(action(2, '0x22'));
    put(action(3, '0x33', 'created'));
    const { adapter, assembled } = countingAdapter();
    const source = new HubActionSource({ state } as unknown as HubView, () => adapter);

    const first = await source.signedActions('ethereum', 1n, 10);
    assert.deepEqual(first.map((a) => a.actionId), [1n, 2n], 'stops at the first action not signed');
    assert.deepEqual(assembled, ['1:0x11', '2:0x22']);
    const again = await source.signedActions('ethereum', 1n, 10);
    assert.deepEqual(again, first);
    assert.deepEqual(assembled, ['1:0x11', '2:0x22'], 'unchanged records are not assembled again');

    // An override rewrites action 2 in place: the new record is assembled, the old assembly is not served.
    put(action(2, '0x99'));
    put(action(3, '0x33'));
    const after = await source.signedActions('ethereum', 1n, 10);
    assert.deepEqual(assembled, ['1:0x11', '2:0x22', '2:0x99', '3:0x33']);
    assert.deepEqual(after.map((a) => (a.payload as { to: string }).to), ['0x11', '0x99', '0x33']);
  });
});
