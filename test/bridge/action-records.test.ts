import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayHaveQuorum, processorRequestFor, shareToBody, validApproverShares } from '../../relayer/bridge/action-records.ts';
import { EvmAdapter } from '../../adapters/evm/evm-adapter.ts';
import { evmSigner } from '../../adapters/evm/evm-signing.ts';
import type { EvmDeployment } from '../../adapters/evm/deployment.ts';
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

  it('stops checking once `enough` shares verified (the quorum), so a third approval costs no recovery', () => {
    const { adapter, checked } = counting();
    const shares = validApproverShares(adapter, unsigned, action([share('a', '0x1'), share('bad', '0x1'), share('b', '0x1'), share('c', '0x1')]), 2);
    assert.deepEqual(shares.map((s) => s.signer), ['a', 'b']);
    assert.deepEqual(checked, ['a', 'bad', 'b'], 'c is never checked');
  });
});

describe('processorRequestFor: the co-signer signs only what the chain will count as a quorum', () => {
  // A real EVM adapter: building actions, signing requests and share checks need no RPC.
  const secret = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
  const [processor, alice, bob, carol] = [1, 2, 3, 4].map((n) => evmSigner(secret(n))) as [ReturnType<typeof evmSigner>, ReturnType<typeof evmSigner>, ReturnType<typeof evmSigner>, ReturnType<typeof evmSigner>];
  const deployment: EvmDeployment = {
    family: 'evm', chainId: 1, bridge: '0x00000000000000000000000000000000000000b1', klxToken: null, klxKind: 'none', deployer: processor.address,
    deployedAtBlock: '0', rotationDelaySeconds: '600',
    validators: { processor: processor.address, approvers: [alice.address, bob.address, carol.address], approverQuorum: 2, listeners: [alice.address], listenerQuorum: 1 },
  } as EvmDeployment;
  const adapter = new EvmAdapter({ chain: 'ethereum', rpcUrl: 'http://127.0.0.1:9', deployment, confirmations: { kind: 'blocks', count: 1 } });
  const unsigned = adapter.buildAction({ actionId: 5n, kind: 'release', asset: 'native', recipient: '0x00000000000000000000000000000000000000c4', amount: 1n });
  const request = adapter.signingRequests(unsigned, []).find((r) => r.role === 'approver');
  const body = (signer: ReturnType<typeof evmSigner>) => shareToBody(unsigned, { signer: signer.address, role: 'approver', round: 0, signature: signer.sign(request as never) });
  const record = (approvals: Record<string, ReturnType<typeof body>>) => ({ approvals }) as unknown as ActionRecord;

  it('asks the processor to sign once two distinct approvers signed', () => {
    assert.equal(processorRequestFor(adapter, unsigned, record({ a: body(alice) }), 2), undefined);
    assert.equal(processorRequestFor(adapter, unsigned, record({ a: body(alice), b: body(bob) }), 2)?.role, 'processor');
  });

  it('does not count a copy of an approver\'s share, in the same or another spelling of its address, and signs once a real second approver is in', () => {
    assert.equal(processorRequestFor(adapter, unsigned, record({ a: body(alice), m: body(alice) }), 2), undefined, 'an exact copy');
    const copy = { ...body(alice), signer: alice.address.toLowerCase() };
    assert.notEqual(copy.signer, alice.address, 'the test needs a checksummed address with letters');
    assert.equal(validApproverShares(adapter, unsigned, record({ a: body(alice), m: copy }), 2).length, 2, 'both verify, under two spellings');
    assert.equal(processorRequestFor(adapter, unsigned, record({ a: body(alice), m: copy }), 2), undefined, 'one signer is no quorum of two');
    assert.equal(processorRequestFor(adapter, unsigned, record({ a: body(alice), m: copy, c: body(carol) }), 2)?.role, 'processor', 'every valid share is tried when the first do not make a quorum');
  });
});
