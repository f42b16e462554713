import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayHaveQuorum, validApproverShares } from '../../relayer/bridge/action-records.ts';
import type { ChainAdapter, SignatureShare, UnsignedAction } from '../../adapters/chain-adapter.ts';
import type { ActionRecord } from '../../relayer/ledger/bridge-state.ts';
import type { SignatureShareBody } from '../../relayer/ledger/bridge-bodies.ts';

const share = (signer: string, payloadHash: string, context?: string): SignatureShareBody => ({
  actionId: '7',
  payloadHash,
  signer,
  signature: '0x00',
  ...(context === undefined ? {} : { context }),
});
const action = (approvals: SignatureShareBody[]) => ({ approvals: Object.fromEntries(approvals.map((s) => [s.signer, s])) }) as unknown as ActionRecord;

describe('mayHaveQuorum: the cheap test the co-signer makes before deriving and verifying an action', () => {
  it('needs quorum approvals of one payload hash in one context', () => {
    assert.equal(mayHaveQuorum(action([]), '', 2), false);
    assert.equal(mayHaveQuorum(action([share('a', '0x1')]), '', 2), false, 'one approval of two needed');
    assert.equal(mayHaveQuorum(action([share('a', '0x1'), share('b', '0x2')]), '', 2), false, 'two approvals, two payloads');
    assert.equal(mayHaveQuorum(action([share('a', '0x1'), share('b', '0x2'), share('c', '0x1')]), '', 2), true);
    assert.equal(mayHaveQuorum(action([share('a', '0x1', 'n9'), share('b', '0x1', 'n8')]), 'n9', 2), false, 'the same payload in two contexts');
    assert.equal(mayHaveQuorum(action([share('a', '0x1', 'n9'), share('b', '0x1', 'n9')]), 'n9', 2), true);
    assert.equal(mayHaveQuorum(action([share('a', '0x1', 'n9'), share('b', '0x1', 'n9')]), '', 2), false, 'no approval in the empty context');
  });
});

describe('validApproverShares: the shares the co-signer checks before it signs', () => {
  const unsigned: UnsignedAction = { chain: 'ethereum', actionId: 7n, payloadHash: '0x1', context: '', payload: null };
  // A chain whose share check is costly (a signature recovery): it counts the checks; signer "bad" never verifies.
  const counting = () => {
    const checked: string[] = [];
    const adapter = { verifyShare: (_u: UnsignedAction, s: SignatureShare) => (checked.push(s.signer), s.signer !== 'bad') } as unknown as ChainAdapter;
    return { adapter, checked };
  };

  it('returns every valid share of the payload when asked for all, skipping invalid ones and other payloads', () => {
    const { adapter, checked } = counting();
    const shares = validApproverShares(adapter, unsigned, action([share('a', '0x1'), share('bad', '0x1'), share('b', '0x2'), share('c', '0x1')]));
    assert.deepEqual(shares.map((s) => s.signer), ['a', 'c']);
    assert.deepEqual(checked, ['a', 'bad', 'c'], 'a share of another payload is not even checked');
  });

  it('counts a chain signer once: an approver repeating another approver\'s share makes no quorum', () => {
    const { adapter, checked } = counting();
    // Approvals are keyed by the sending approver's hub address; "mallory" sent a copy of a's share.
    const copied = { approvals: { alice: share('a', '0x1'), mallory: share('a', '0x1'), carol: share('c', '0x1') } } as unknown as ActionRecord;
    assert.deepEqual(validApproverShares(adapter, unsigned, copied, 2).map((s) => s.signer), ['a', 'c']);
    assert.deepEqual(checked, ['a', 'c'], 'the repeat is not even checked');
    const only = { approvals: { alice: share('a', '0x1'), mallory: share('a', '0x1') } } as unknown as ActionRecord;
    assert.equal(validApproverShares(adapter, unsigned, only).length, 1, 'one signer: below a quorum of two');
  });

  it('stops checking once `enough` shares verified (the quorum), so a third approval costs no recovery', () => {
    const { adapter, checked } = counting();
    const shares = validApproverShares(adapter, unsigned, action([share('a', '0x1'), share('bad', '0x1'), share('b', '0x1'), share('c', '0x1')]), 2);
    assert.deepEqual(shares.map((s) => s.signer), ['a', 'b']);
    assert.deepEqual(checked, ['a', 'bad', 'b'], 'c is never checked');
  });
});
