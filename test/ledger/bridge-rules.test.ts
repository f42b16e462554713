/**
 * The bridge's ledger rules in memory (the same code every node re-executes): listener
 * quorum and event order, claimable and stray deposits, withdrawals and their refusals,
 * approvals, the processor's co-signature and settlement by attested execution.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { privateKeyToAccount } from 'viem/accounts';
import { keys, readRecord, type ActionRecord, type ChainCursor, type ClaimableRecord, type CustodyRecord, type EventRecord } from '../../relayer/ledger/bridge-state.ts';
import { chunksForTx, MAX_ATTESTATIONS_PER_TX, MAX_SIGNATURES_PER_TX, type Attestation, type ChainRegisterBody } from '../../relayer/ledger/bridge-bodies.ts';
import { claimMessage } from '../../relayer/ledger/chain-families.ts';
import { TxRejected } from '../../relayer/ledger/errors.ts';
import { decodeTx, verifyTxStatically, type SignedTx } from '../../relayer/ledger/transaction.ts';
import { ChainBuilder } from '../helpers/chain-builder.ts';
import { context, genesisFor, producerKey, PREFIX, user, type TestUser } from '../helpers/channel.ts';
import { addressFromPublicKey } from '../../relayer/ledger/address.ts';
import { TxFactory } from '../helpers/bridge-txs.ts';

const CUSTODY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TOKEN = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const STRAY_TOKEN = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0';
const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const refundKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const;
const refund = privateKeyToAccount(refundKey);

const listeners = [0, 1, 2, 3, 4].map((i) => user(`listener-${i}`));
const approvers = [0, 1, 2].map((i) => user(`approver-${i}`));
const alice = user('alice');

function reject(code: string) {
  return (e: unknown) => e instanceof TxRejected && e.code === code;
}

describe('bridge rules', () => {
  let chain: ChainBuilder;
  let f: TxFactory;
  const producer = { name: 'producer', key: producerKey(), address: addressFromPublicKey(PREFIX, producerKey().publicKey) } satisfies TestUser;
  const record = <T>(key: string) => readRecord<T>(chain.state, key);
  const deposit = (eventId: number, over: Partial<Attestation> = {}): Attestation => ({
    kind: 'deposit',
    eventId: String(eventId),
    custody: CUSTODY,
    txHash: `0x${String(eventId).padStart(64, '0')}`,
    index: 0,
    blockHeight: String(10 + eventId),
    blockHash: `0x${'ab'.repeat(32)}`,
    asset: TOKEN,
    amount: '5000000000000000000', // 5 KLX at 18 decimals
    recipient: alice.address,
    refundTo: refund.address,
    ...over,
  } as Attestation);
  const attest = (l: TestUser, items: Attestation[]) => chain.append(f.sign(l, 'attest', { chain: 'ethereum', items }));
  const quorumAttest = (items: Attestation[]) => listeners.slice(0, 3).forEach((l) => attest(l, items));
  const expectRejected = (tx: SignedTx, code: string) => {
    const height = chain.state.head.height;
    assert.throws(() => chain.append(tx), reject(code));
    assert.equal(chain.state.head.height, height);
  };

  beforeEach(() => {
    chain = new ChainBuilder(producerKey(), genesisFor([alice]));
    f = new TxFactory();
    const body: ChainRegisterBody = {
      chain: 'ethereum',
      family: 'evm',
      chainRef: '1',
      custody: CUSTODY,
      listeners: listeners.map((l) => l.address),
      listenerQuorum: 3,
      approvers: approvers.map((a) => a.address),
      approverQuorum: 2,
      assets: [
        { hubAsset: 'KLX', chainAsset: TOKEN, chainDecimals: 18, mode: 'lock' },
        { hubAsset: 'ETH', chainAsset: 'native', chainDecimals: 6, mode: 'lock' },
      ],
    };
    chain.append(f.sign(producer, 'chain-register', body));
  });

  it('refuses a chain registration by anyone but the producer, or with a quorum that is not a strict majority', () => {
    const body = (q: number): ChainRegisterBody => ({ ...(record<ChainRegisterBody>(keys.chain('ethereum')) as ChainRegisterBody), chain: 'polygon', listenerQuorum: q });
    expectRejected(f.sign(alice, 'chain-register', body(3)), 'NOT_AUTHORIZED');
    f.unuse(alice);
    assert.throws(() => verifyTxStatically(f.sign(producer, 'chain-register', body(2)), context()), reject('BAD_QUORUM'));
    f.unuse(producer);
    chain.append(f.sign(producer, 'chain-register', body(3)));
    assert.ok(record(keys.chain('polygon')));
    expectRejected(f.sign(producer, 'chain-register', body(3)), 'CHAIN_EXISTS');
  });

  it('credits a deposit only with the amount L listeners agree on, once, even when 2 of 5 lie', () => {
    const lie = deposit(1, { amount: '9000000000000000000' });
    attest(listeners[3] as TestUser, [lie]);
    attest(listeners[4] as TestUser, [lie]);
    assert.equal(chain.state.balance(alice.address, 'KLX'), 1_000_000_000n, 'two lying votes credit nothing');
    attest(listeners[0] as TestUser, [deposit(1)]);
    attest(listeners[1] as TestUser, [deposit(1)]);
    assert.equal(chain.state.balance(alice.address, 'KLX'), 1_000_000_000n, 'two true votes are not a quorum');
    attest(listeners[2] as TestUser, [deposit(1)]);
    assert.equal(chain.state.balance(alice.address, 'KLX'), 1_000_000_000n + 5_000_000_000n);
    assert.equal(record<CustodyRecord>(keys.custody('ethereum', 'KLX'))?.held, '5000000000');
    // A late vote (true or false) changes nothing.
    attest(listeners[3] as TestUser, [deposit(1)]);
    assert.equal(chain.state.balance(alice.address, 'KLX'), 6_000_000_000n);
    assert.equal(record<EventRecord>(keys.event('ethereum', 1n))?.outcome, 'credited');
  });

  it('applies events strictly in event-id order and refuses a listener changing its vote', () => {
    quorumAttest([deposit(2)]);
    assert.equal(chain.state.balance(alice.address, 'KLX'), 1_000_000_000n, 'event 2 waits for event 1');
    assert.equal(record<ChainCursor>(keys.cursor('ethereum'))?.nextEventId, '1');
    expectRejected(f.sign(listeners[0] as TestUser, 'attest', { chain: 'ethereum', items: [deposit(2, { amount: '1000000000' })] }), 'CONFLICTING_ATTESTATION');
    f.unuse(listeners[0] as TestUser);
    quorumAttest([deposit(1)]);
    assert.equal(chain.state.balance(alice.address, 'KLX'), 11_000_000_000n, 'events 1 and 2 both applied');
    assert.equal(record<ChainCursor>(keys.cursor('ethereum'))?.nextEventId, '3');
    expectRejected(f.sign(alice, 'attest', { chain: 'ethereum', items: [deposit(3)] }), 'NOT_AUTHORIZED');
    expectRejected(f.sign(listeners[0] as TestUser, 'attest', { chain: 'ethereum', items: [deposit(3, { custody: RECIPIENT })] }), 'WRONG_CUSTODY');
  });

  it('makes a deposit with a malformed hub recipient claimable by proof from its refund address only', async () => {
    quorumAttest([deposit(1, { recipient: 'klxd1notanaddress' })]);
    assert.equal(record<ClaimableRecord>(keys.claimable('ethereum', 1n))?.hubAmount, '5000000000');
    const bob = user('bob');
    const wrong = await privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba').signMessage({
      message: claimMessage('devnet', 'bridge', 'ethereum', '1', bob.address),
    });
    expectRejected(f.sign(bob, 'claim-deposit', { chain: 'ethereum', eventId: '1', to: bob.address, proof: wrong }), 'BAD_PROOF');
    f.unuse(bob);
    const proofForBob = await refund.signMessage({ message: claimMessage('devnet', 'bridge', 'ethereum', '1', bob.address) });
    // The proof names the hub address: it cannot be redirected to another one.
    expectRejected(f.sign(alice, 'claim-deposit', { chain: 'ethereum', eventId: '1', to: alice.address, proof: proofForBob }), 'BAD_PROOF');
    f.unuse(alice);
    chain.append(f.sign(bob, 'claim-deposit', { chain: 'ethereum', eventId: '1', to: bob.address, proof: proofForBob }));
    assert.equal(chain.state.balance(bob.address, 'KLX'), 5_000_000_000n);
    expectRejected(f.sign(bob, 'claim-deposit', { chain: 'ethereum', eventId: '1', to: bob.address, proof: proofForBob }), 'NOTHING_TO_CLAIM');
  });

  it('turns an unknown token and an amount the hub cannot carry into stray custody, crediting nothing', () => {
    quorumAttest([deposit(1, { asset: STRAY_TOKEN }), deposit(2, { amount: '5000000000000000001' })]);
    assert.equal(record<EventRecord>(keys.event('ethereum', 1n))?.outcome, 'stray');
    assert.equal(record<EventRecord>(keys.event('ethereum', 2n))?.outcome, 'stray');
    assert.ok(chain.state.entries.has(keys.stray('ethereum', 2n)));
    assert.equal(chain.state.balance(alice.address, 'KLX'), 1_000_000_000n);
  });

  it('refuses bad withdrawals with a clear code and leaves the balance unchanged', () => {
    quorumAttest([deposit(1)]);
    const w = (over: Partial<{ asset: string; amount: string; recipient: string }>) =>
      f.sign(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: '1000000000', recipient: RECIPIENT, ...over });
    const cases: [Partial<{ asset: string; amount: string; recipient: string }>, string][] = [
      [{ recipient: '0x1234' }, 'BAD_CHAIN_ADDRESS'],
      [{ recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79c8' }, 'BAD_CHAIN_ADDRESS'], // checksum broken in the last digit
      [{ recipient: '0x0000000000000000000000000000000000000000' }, 'BAD_CHAIN_ADDRESS'],
      [{ asset: 'DOGE' }, 'UNSUPPORTED_ASSET'],
      [{ asset: 'ETH', amount: '1' }, 'UNREPRESENTABLE_AMOUNT'], // ETH has 6 decimals on this chain
      [{ amount: '2000000000000' }, 'INSUFFICIENT_BALANCE'],
    ];
    for (const [over, code] of cases) {
      expectRejected(w(over), code);
      f.unuse(alice);
    }
    assert.equal(chain.state.balance(alice.address, 'KLX'), 6_000_000_000n);
    expectRejected(f.sign(alice, 'withdraw', { chain: 'tezos', asset: 'KLX', amount: '1', recipient: RECIPIENT }), 'UNKNOWN_CHAIN');
  });

  it('refuses a share whose context or signature bundle is malformed or oversized, and accepts the largest allowed', () => {
    const share = (over: Record<string, string>) => ({ actionId: '1', payloadHash: `0x${'11'.repeat(32)}`, signer: 'S', signature: `0x${'22'.repeat(64)}`, ...over });
    // As a node receives it: the bytes are decoded, which checks the body against its schema.
    const check = (over: Record<string, string>) => decodeTx(f.sign(approvers[0] as TestUser, 'approve', { chain: 'ethereum', items: [share(over)] }).encoded);
    for (const [over, why] of [
      [{ context: 'two words' }, 'a context with a space'],
      [{ context: 'x'.repeat(129) }, 'a context over 128 characters'],
      [{ context: '' }, 'an empty context (absent is how "none" is said)'],
      [{ signature: `0x${'22'.repeat(4097)}` }, 'a signature bundle over 4,096 bytes'],
    ] as const) {
      assert.throws(() => check(over), reject('TX_MALFORMED'), why);
    }
    assert.doesNotThrow(() => check({ context: '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin', signature: `0x${'22'.repeat(4096)}` }));
  });

  it('creates action n, needs M approvals before the processor co-signs, and settles on an attested execution', () => {
    quorumAttest([deposit(1)]);
    chain.append(f.sign(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: '2000000000', recipient: RECIPIENT.toLowerCase() }));
    const action = () => record<ActionRecord>(keys.action('ethereum', 1n)) as ActionRecord;
    assert.equal(action().recipient, RECIPIENT, 'stored in canonical (checksummed) form');
    assert.equal(action().chainAmount, '2000000000000000000');
    assert.equal(chain.state.balance(alice.address, 'KLX'), 4_000_000_000n);
    const share = (signer: string) => ({ actionId: '1', payloadHash: `0x${'11'.repeat(32)}`, signer, signature: `0x${'22'.repeat(65)}` });
    expectRejected(f.sign(alice, 'approve', { chain: 'ethereum', items: [share('0x01')] }), 'NOT_AUTHORIZED');
    f.unuse(alice);
    chain.append(f.sign(approvers[0] as TestUser, 'approve', { chain: 'ethereum', items: [share('0xa0')] }));
    expectRejected(f.sign(producer, 'cosign', { chain: 'ethereum', items: [share('0xp')] }), 'QUORUM_NOT_REACHED');
    f.unuse(producer);
    chain.append(f.sign(approvers[1] as TestUser, 'approve', { chain: 'ethereum', items: [{ ...share('0xa1'), payloadHash: `0x${'33'.repeat(32)}` }] }));
    expectRejected(f.sign(producer, 'cosign', { chain: 'ethereum', items: [share('0xp')] }), 'QUORUM_NOT_REACHED');
    f.unuse(producer);
    chain.append(f.sign(approvers[2] as TestUser, 'approve', { chain: 'ethereum', items: [share('0xa2')] }));
    expectRejected(f.sign(alice, 'cosign', { chain: 'ethereum', items: [share('0xp')] }), 'NOT_AUTHORIZED');
    chain.append(f.sign(producer, 'cosign', { chain: 'ethereum', items: [share('0xp')] }));
    assert.equal(action().status, 'signed');
    const execution: Attestation = {
      kind: 'execution',
      eventId: '2',
      custody: CUSTODY,
      txHash: `0x${'44'.repeat(32)}`,
      index: 1,
      blockHeight: '30',
      blockHash: `0x${'55'.repeat(32)}`,
      actionId: '1',
      payloadHash: `0x${'11'.repeat(32)}`,
      paid: true,
    };
    quorumAttest([execution]);
    assert.equal(action().status, 'executed');
    assert.deepEqual(record<CustodyRecord>(keys.custody('ethereum', 'KLX')), { held: '3000000000', pendingOut: '0' });
  });

  it('accepts an unchecksummed (all-lower or all-upper case) EVM destination and stores it checksummed, as the adapter does', () => {
    quorumAttest([deposit(1)]);
    chain.append(f.sign(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: '1000000000', recipient: `0x${RECIPIENT.slice(2).toUpperCase()}` }));
    assert.equal(record<ActionRecord>(keys.action('ethereum', 1n))?.recipient, RECIPIENT);
  });

  it('splits a full round of signatures or attestations into transactions under the size limit', () => {
    const shares = Array.from({ length: 64 }, (_, i) => ({ actionId: String(1_000_000 + i), payloadHash: `0x${'ab'.repeat(32)}`, signer: RECIPIENT, signature: `0x${'cd'.repeat(65)}` }));
    const atts = Array.from({ length: 32 }, (_, i) => deposit(1_000_000 + i, { recipient: 'k'.repeat(128), refundTo: 'r'.repeat(128), txHash: 't'.repeat(128), blockHash: 'b'.repeat(128) }));
    assert.throws(() => verifyTxStatically(f.sign(approvers[0] as TestUser, 'approve', { chain: 'ethereum', items: shares }), context()), reject('TX_TOO_LARGE'), 'one transaction would be too large');
    for (const [type, list, max] of [['approve', shares, MAX_SIGNATURES_PER_TX], ['attest', atts, MAX_ATTESTATIONS_PER_TX]] as const) {
      const chunks = chunksForTx<object>(list, max);
      assert.ok(chunks.length > 1);
      assert.equal(chunks.flat().length, list.length);
      for (const items of chunks) verifyTxStatically(f.sign(listeners[0] as TestUser, type, { chain: 'ethereum', items } as never), context());
    }
  });

  it('halts the chain when an execution carries a payload the hub did not sign', () => {
    quorumAttest([deposit(1)]);
    chain.append(f.sign(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: '1000000000', recipient: RECIPIENT }));
    const bad: Attestation = {
      kind: 'execution', eventId: '2', custody: CUSTODY, txHash: `0x${'44'.repeat(32)}`, index: 0, blockHeight: '30',
      blockHash: `0x${'55'.repeat(32)}`, actionId: '1', payloadHash: `0x${'99'.repeat(32)}`, paid: true,
    };
    quorumAttest([bad]);
    assert.match(record<ChainCursor>(keys.cursor('ethereum'))?.halted ?? '', /did not sign/);
    expectRejected(f.sign(alice, 'withdraw', { chain: 'ethereum', asset: 'KLX', amount: '1000000000', recipient: RECIPIENT }), 'CHAIN_HALTED');
  });

  describe('returns of claimable and stray deposits by approver quorum', () => {
    const vote = (a: TestUser, eventId: string) => f.sign(a, 'return-deposit', { chain: 'ethereum', eventId });
    const action = (id: bigint) => record<ActionRecord>(keys.action('ethereum', id));
    const signAndExecute = (id: string, eventId: string) => {
      const share = (signer: string) => ({ actionId: id, payloadHash: `0x${'11'.repeat(32)}`, signer, signature: `0x${'22'.repeat(65)}` });
      chain.append(f.sign(approvers[0] as TestUser, 'approve', { chain: 'ethereum', items: [share('0xa0')] }));
      chain.append(f.sign(approvers[1] as TestUser, 'approve', { chain: 'ethereum', items: [share('0xa1')] }));
      chain.append(f.sign(producer, 'cosign', { chain: 'ethereum', items: [share('0xp')] }));
      quorumAttest([{ kind: 'execution', eventId, custody: CUSTODY, txHash: `0x${'44'.repeat(32)}`, index: 0, blockHeight: '30', blockHash: `0x${'55'.repeat(32)}`, actionId: id, payloadHash: `0x${'11'.repeat(32)}`, paid: true }]);
    };

    it('turns a claimable deposit into a release to its refund address once M approvers vote, and only then', () => {
      quorumAttest([deposit(1, { recipient: 'klxd1notanaddress' })]);
      expectRejected(vote(alice, '1'), 'NOT_AUTHORIZED');
      chain.append(vote(approvers[0] as TestUser, '1'));
      assert.equal(action(1n), undefined, 'one vote of a quorum of two creates nothing');
      assert.deepEqual(record<{ approvers: string[] }>(keys.returnVotes('ethereum', 1n))?.approvers, [approvers[0]?.address]);
      expectRejected(vote(approvers[0] as TestUser, '1'), 'ALREADY_VOTED');
      f.unuse(approvers[0] as TestUser);
      chain.append(vote(approvers[2] as TestUser, '1'));
      const a = action(1n) as ActionRecord;
      assert.equal(a.kind, 'release');
      assert.equal(a.recipient, refund.address);
      assert.equal(a.chainAsset, TOKEN);
      assert.equal(a.chainAmount, '5000000000000000000', 'the whole deposit, in chain units');
      assert.equal(a.owner, null);
      assert.deepEqual(a.returnOf, { source: 'claimable', eventId: '1' });
      assert.equal(record(keys.claimable('ethereum', 1n)), undefined, 'no longer claimable on the hub');
      assert.equal(record(keys.returnVotes('ethereum', 1n)), undefined);
      assert.match(record<EventRecord>(keys.event('ethereum', 1n))?.detail ?? '', /returned to .* as action 1/);
      assert.deepEqual(record<CustodyRecord>(keys.custody('ethereum', 'KLX')), { held: '5000000000', pendingOut: '5000000000' });
      expectRejected(vote(approvers[1] as TestUser, '1'), 'NOTHING_TO_RETURN');
      f.unuse(approvers[1] as TestUser);
      signAndExecute('1', '2');
      assert.equal(action(1n)?.status, 'executed');
      assert.deepEqual(record<CustodyRecord>(keys.custody('ethereum', 'KLX')), { held: '0', pendingOut: '0' });
      assert.equal(chain.state.balance(alice.address, 'KLX'), 1_000_000_000n, 'no hub balance moved');
    });

    it('returns stray tokens exactly, without touching the hub custody accounts, and refuses anything else', () => {
      quorumAttest([deposit(1, { asset: STRAY_TOKEN, amount: '777' }), deposit(2)]);
      expectRejected(vote(approvers[0] as TestUser, '2'), 'NOTHING_TO_RETURN'); // credited, not returnable
      f.unuse(approvers[0] as TestUser);
      expectRejected(f.sign(approvers[0] as TestUser, 'return-deposit', { chain: 'tezos', eventId: '1' }), 'UNKNOWN_CHAIN');
      f.unuse(approvers[0] as TestUser);
      chain.append(vote(approvers[0] as TestUser, '1'));
      chain.append(vote(approvers[1] as TestUser, '1'));
      const a = action(1n) as ActionRecord;
      assert.deepEqual([a.kind, a.hubAsset, a.chainAsset, a.chainAmount, a.recipient], ['release', null, STRAY_TOKEN, '777', refund.address]);
      assert.equal(record(keys.stray('ethereum', 1n)), undefined);
      const custodyBefore = record<CustodyRecord>(keys.custody('ethereum', 'KLX'));
      signAndExecute('1', '3');
      assert.equal(action(1n)?.status, 'executed');
      assert.deepEqual(record<CustodyRecord>(keys.custody('ethereum', 'KLX')), custodyBefore);
    });
  });
});
