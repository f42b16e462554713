/**
 * The conformance suite every ChainAdapter passes (DESIGN.md §4, ADR 0010). It speaks
 * only the ChainAdapter interface; a family plugs in through a ConformanceHarness that
 * knows how to make its chain move (deposit, mine, reorganise, fund custody).
 *
 *   chainAdapterConformance('EvmAdapter on ethereum', () => startEvmHarness(...));
 *
 * The cases run in order on one chain and share it: each makes its own deposits and
 * actions, and reads ids and balances before acting rather than assuming them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BadChainAddress,
  type BlockRef,
  type ChainAdapter,
  type ChainAssetSpec,
  type ChainEvent,
  type DepositObservation,
  type ExecutionObservation,
  type HubAction,
  type SignatureShare,
  type SignedAction,
  type SubmissionRecord,
  type SubmissionState,
  type UnsignedAction,
} from '../../adapters/chain-adapter.ts';
import { KlxError } from '../../relayer/ledger/errors.ts';

export interface ConformanceHarness {
  /** A fresh adapter instance on the same chain (two listeners must see identical observations). */
  adapter(): ChainAdapter;
  assets: {
    /** An asset custody holds and releases; the harness can deposit it and fund custody with it. */
    locked: ChainAssetSpec;
  };
  /** Addresses validateAddress must accept (any accepted spelling). */
  validAddresses: string[];
  /** Addresses validateAddress must refuse. */
  invalidAddresses: string[];
  /** A fresh chain address nobody has used. */
  recipient(): string;
  /** A user deposit into custody (refundTo: a harness-chosen address when omitted). */
  deposit(spec: { asset: string; amount: bigint; hubRecipient: string; refundTo?: string }): Promise<{ txHash: string }>;
  /** Makes the chain produce `blocks` more blocks. */
  advance(blocks: number): Promise<void>;
  /**
   * Replaces the last `blocks` blocks with different ones at the same heights; absent where
   * the harness chain cannot reorganise (Solana's bankrun: finalized slots never change).
   */
  reorgLast?(blocks: number): Promise<void>;
  /** Hex secrets: the custody's processor and approvers, and a key outside the signer set. */
  signers: { processor: string; approvers: string[]; outsider: string };
  /** The fee payer's secret and address. */
  payer: string;
  payerAddress: string;
  /** Adds `amount` of `asset` to custody without a deposit (a treasury top-up). */
  fundCustody(asset: string, amount: bigint): Promise<void>;
  /** What `owner` holds of a chain asset, in base units. */
  balanceOf(owner: string, asset: string): Promise<bigint>;
  close(): Promise<void>;
}

/** How many blocks the suite lets a chain produce while waiting for something before it gives up. */
const PATIENCE_BLOCKS = 64;

const isKlxError = (code: string, retriable: boolean) => (e: unknown) =>
  e instanceof KlxError && e.code === code && e.retriable === retriable;

/** Scan results come in the chain's canonical order, and chain-numbered ids ascend with it. */
function assertChainOrder(events: readonly ChainEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    const [prev, cur] = [events[i - 1] as ChainEvent, events[i] as ChainEvent];
    const ordered = prev.block.height < cur.block.height || (prev.block.height === cur.block.height && prev.index < cur.index);
    assert.ok(ordered, `events ${i - 1} and ${i} are out of chain order`);
    if (prev.eventId !== null && cur.eventId !== null) assert.ok(cur.eventId > prev.eventId, 'event ids ascend in chain order');
  }
}

export function chainAdapterConformance(name: string, setup: () => Promise<ConformanceHarness>): void {
  describe(`ChainAdapter conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let spec: ChainAssetSpec;
    let recipients = 0;
    const hubRecipient = () => `conformance-recipient-${++recipients}`;
    /** `whole` whole hub units of the locked asset, in chain base units. */
    const units = (a: ChainAdapter, whole: bigint) => a.toChainAmount(spec, whole * 10n ** BigInt(spec.hubDecimals));

    before(async () => {
      h = await setup();
      spec = h.assets.locked;
    });
    after(async () => {
      await h?.close();
    });

    /** Lets the chain move until `height` is final; returns that head. */
    async function untilFinal(a: ChainAdapter, height: bigint): Promise<{ latest: BlockRef; final: BlockRef }> {
      for (let i = 0; i <= PATIENCE_BLOCKS; i++) {
        const head = await a.head();
        if (head.final.height >= height) return head;
        await h.advance(1);
      }
      return assert.fail(`block ${height} did not become final within ${PATIENCE_BLOCKS} blocks`);
    }

    async function eventsOf(a: ChainAdapter, txHash: string): Promise<ChainEvent[]> {
      for (let i = 0; i <= PATIENCE_BLOCKS; i++) {
        const events = await a.eventsOfTx(txHash);
        if (events.length) return events;
        await h.advance(1);
      }
      return assert.fail(`transaction ${txHash} never showed bridge events`);
    }

    async function depositOnce(a: ChainAdapter, amount: bigint): Promise<{ before: BlockRef; txHash: string; refundTo: string; seen: DepositObservation }> {
      const before = (await a.head()).latest;
      const refundTo = h.recipient();
      const recipientText = hubRecipient();
      const { txHash } = await h.deposit({ asset: spec.chainAsset, amount, hubRecipient: recipientText, refundTo });
      const events = await eventsOf(a, txHash);
      assert.equal(events.length, 1, 'one deposit, one event');
      const seen = events[0] as ChainEvent;
      assert.equal(seen.kind, 'deposit');
      assert.ok(seen.kind === 'deposit');
      assert.equal(seen.txHash, txHash);
      assert.equal(seen.custody, a.custody);
      assert.equal(seen.asset, spec.chainAsset);
      assert.equal(seen.amount, amount);
      assert.equal(seen.hubRecipient, recipientText, 'the hub recipient is reported verbatim');
      assert.equal(seen.refundTo, a.validateAddress(refundTo));
      return { before, txHash, refundTo, seen };
    }

    /** The context action `id` is built against, letting the chain move until it can be built (Solana: n − 1 final). */
    async function contextFor(a: ChainAdapter, id: bigint): Promise<string> {
      for (let i = 0; i <= PATIENCE_BLOCKS; i++) {
        try {
          return await a.actionContext(id);
        } catch (e) {
          if (!(e instanceof KlxError && e.code === 'NOT_EXECUTABLE_YET' && e.retriable)) throw e;
          await h.advance(1);
        }
      }
      return assert.fail(`action ${id} never became buildable`);
    }

    /** Collects shares the way the relayer does: ask what is missing, have a key of that role sign it. */
    function collectShares(a: ChainAdapter, unsigned: UnsignedAction): SignatureShare[] {
      const keys = { processor: [h.signers.processor], approver: h.signers.approvers };
      const shares: SignatureShare[] = [];
      for (let step = 0; step < 100; step++) {
        const requests = a.signingRequests(unsigned, shares);
        if (requests.length === 0) return shares;
        for (const request of requests) {
          const signers = keys[request.role].map((secret) => a.signer(secret));
          const fresh = signers.find((s) => !shares.some((x) => x.signer === s.address && x.role === request.role && x.round === request.round));
          assert.ok(fresh, `no ${request.role} key left for round ${request.round}`);
          const share: SignatureShare = { signer: fresh.address, role: request.role, round: request.round, signature: fresh.sign(request) };
          assert.ok(a.verifyShare(unsigned, share), `a genuine ${request.role} share verifies`);
          shares.push(share);
        }
      }
      return assert.fail('signing never completed');
    }

    async function signedRelease(a: ChainAdapter, actionId: bigint, recipient: string, amount: bigint): Promise<{ unsigned: UnsignedAction; signed: SignedAction }> {
      const unsigned = a.buildAction({ actionId, kind: 'release', asset: spec.chainAsset, recipient, amount, context: await contextFor(a, actionId) });
      return { unsigned, signed: a.assemble(unsigned, collectShares(a, unsigned)) };
    }

    /** Prepares, broadcasts and waits for a verdict, as a submitter does. */
    async function land(a: ChainAdapter, actions: readonly SignedAction[]): Promise<{ record: SubmissionRecord; state: SubmissionState }> {
      const record = await a.prepareSubmission(actions, h.payer, await a.payerNonce(h.payerAddress));
      await a.broadcast(record);
      for (let i = 0; i <= PATIENCE_BLOCKS; i++) {
        const state = await a.submissionState(record);
        if (state === 'included' || state === 'reverted') return { record, state };
        await h.advance(1);
      }
      return assert.fail(`submission ${record.txHash} never settled`);
    }

    it('canonicalises valid addresses and refuses invalid ones with BAD_CHAIN_ADDRESS', () => {
      const a = h.adapter();
      assert.ok(h.validAddresses.length > 0 && h.invalidAddresses.length > 0);
      for (const text of [...h.validAddresses, h.recipient()]) {
        const canonical = a.validateAddress(text);
        assert.equal(a.validateAddress(canonical), canonical, `${text}: the canonical form is a fixed point`);
      }
      for (const text of h.invalidAddresses) {
        assert.throws(
          () => a.validateAddress(text),
          (e) => e instanceof BadChainAddress && e.code === 'BAD_CHAIN_ADDRESS' && !e.retriable && e.message.length > 0,
          `${JSON.stringify(text)} must be refused`,
        );
      }
    });

    it('converts amounts both ways and refuses what the chain or the hub cannot represent', () => {
      const a = h.adapter();
      const unrepresentable = (f: () => unknown, why: string) => assert.throws(f, isKlxError('UNREPRESENTABLE_AMOUNT', false), why);
      for (const hub of [1n, 10n ** BigInt(spec.hubDecimals), 123_456_789n]) {
        assert.equal(a.toHubAmount(spec, a.toChainAmount(spec, hub)), hub, `round trip of ${hub}`);
      }
      unrepresentable(() => a.toChainAmount(spec, 0n), 'zero');
      unrepresentable(() => a.toChainAmount(spec, -1n), 'negative');
      unrepresentable(() => a.toChainAmount(spec, 10n ** 100n), 'beyond any chain integer');
      // A hub asset with more decimals than the chain: one hub unit is below the chain's smallest unit.
      const finerHub: ChainAssetSpec = { ...spec, hubDecimals: spec.decimals + 2 };
      unrepresentable(() => a.toChainAmount(finerHub, 1n), 'too many decimals for the chain');
      assert.equal(a.toChainAmount(finerHub, 300n), 3n);
      assert.equal(a.toHubAmount(finerHub, 3n), 300n);
      if (spec.decimals >= 2) {
        // A hub asset with fewer decimals: chain dust has no hub amount.
        const coarserHub: ChainAssetSpec = { ...spec, hubDecimals: spec.decimals - 2 };
        unrepresentable(() => a.toHubAmount(coarserHub, 101n), 'chain dust the hub cannot carry');
        assert.equal(a.toHubAmount(coarserHub, 500n), 5n);
      }
      unrepresentable(() => a.toHubAmount({ ...spec, hubDecimals: spec.decimals }, 1n << 128n), 'beyond the hub u128');
    });

    it('reports a deposit only once it is final, with the amount custody received', async () => {
      const a = h.adapter();
      const amount = units(a, 5n);
      const { before, txHash, seen } = await depositOnce(a, amount);
      const now = await a.head();
      assert.ok(now.final.height < seen.block.height, 'the harness chain must need confirmations (a deposit is not final at once)');
      const early = await a.scan(null, now.final);
      assert.ok(!early.some((e) => e.txHash === txHash), 'a deposit was reported before its block was final');

      const head = await untilFinal(a, seen.block.height);
      const events = await a.scan(null, head.final);
      assert.deepEqual(
        events.filter((e) => e.txHash === txHash),
        [seen],
        'scan reports the deposit exactly as eventsOfTx does',
      );
      assertChainOrder(events);

      const custodyBefore = (await a.custodyBalances(before, [spec.chainAsset])).get(spec.chainAsset);
      const custodyAfter = (await a.custodyBalances(seen.block, [spec.chainAsset])).get(spec.chainAsset);
      assert.ok(custodyBefore !== undefined && custodyAfter !== undefined);
      assert.equal(custodyAfter - custodyBefore, seen.amount, 'the observed amount is what custody gained');
    });

    it('two adapter instances (two listeners) report identical observations, in one pass or in pieces', async () => {
      const [a, b] = [h.adapter(), h.adapter()];
      const { seen } = await depositOnce(a, units(a, 1n));
      const head = await untilFinal(a, seen.block.height);
      const [fromA, fromB] = await Promise.all([a.scan(null, head.final), b.scan(null, head.final)]);
      assert.ok(fromA.some((e) => e.txHash === seen.txHash));
      assert.ok(fromA.length >= 2, 'the earlier deposit is there too');
      assertChainOrder(fromA);
      assert.deepEqual(fromB, fromA);
      const pieces = [...(await b.scan(null, seen.block)), ...(await b.scan(seen.block, head.final))];
      assert.deepEqual(pieces, fromA, 'scanning (a, b] then (b, c] equals scanning (a, c]');
    });

    it('the start-up probe passes on a node that serves every read observing needs', async () => {
      await h.adapter().probe();
    });

    it('blockAt names the final block as head() does; above the latest block it has no answer, never an empty height', async () => {
      const a = h.adapter();
      const { latest, final } = await a.head();
      assert.deepEqual(await a.blockAt(final.height), final);
      await assert.rejects(a.blockAt(latest.height + 1000n), (e) => e instanceof KlxError && e.retriable);
    });

    it('reads the custody of a block from before the custody existed as empty, never as an error', async () => {
      // Listeners read custody at checkpoint heights (multiples of custodySyncBlocks), and a
      // fresh listener's first checkpoints may precede the bridge's deployment.
      const a = h.adapter();
      // The chain's first block (a bankrun-served Solana starts at slot 2; slots may be skipped).
      let first: BlockRef | null = null;
      for (let height = 0n; height < 64n && !first; height++) first = await a.blockAt(height);
      assert.ok(first, 'the harness chain has a block among its first 64 heights');
      assert.deepEqual([...(await a.custodyBalances(first, [spec.chainAsset]))], [[spec.chainAsset, 0n]]);
    });

    it('checkReorg returns null on an unchanged chain and the first changed block after a reorg', async () => {
      const a = h.adapter();
      const older = (await a.head()).latest;
      await h.advance(3);
      const recent = (await a.head()).latest;
      assert.ok(recent.height >= older.height + 3n);
      assert.equal(await a.checkReorg([older, recent]), null);

      if (h.reorgLast) {
        await h.reorgLast(2);
        assert.deepEqual(await a.checkReorg([older, recent]), recent, 'the replaced block is reported');
        await assert.rejects(a.scan(null, recent), (e) => e instanceof KlxError && e.retriable, 'a scan up to a replaced block is refused, retriably');
        assert.equal(await a.checkReorg([older, (await a.head()).latest]), null, 'the new chain is consistent with itself');
      }
      // Whatever the chain can do: a block reference whose hash is not the chain's is reported, and not scanned up to.
      const forged: BlockRef = { height: older.height, hash: recent.hash };
      assert.deepEqual(await a.checkReorg([forged, recent]), forged, 'a block that is not the chain\'s is reported');
      await assert.rejects(a.scan(null, forged), (e) => e instanceof KlxError && e.retriable, 'a scan up to a block that is not the chain\'s is refused, retriably');
      const final = (await a.head()).final;
      const start = (await a.blockAt(older.height < final.height ? older.height : final.height)) ?? final;
      const forgedStart: BlockRef = { height: start.height, hash: final.hash === start.hash ? recent.hash : final.hash };
      await assert.rejects(a.scan(forgedStart, final), (e) => e instanceof KlxError && !e.retriable, 'a scan from a start that is not the chain\'s block is refused for good: events after it may be gone');
    });

    let landed: { id: bigint; unsigned: UnsignedAction; signed: SignedAction; record: SubmissionRecord; recipient: string; amount: bigint; execution: ExecutionObservation } | undefined;

    it('a release signed by the processor and a quorum lands, pays the recipient, and is observed with paid = true', async () => {
      const a = h.adapter();
      const amount = units(a, 2n);
      await h.fundCustody(spec.chainAsset, amount * 10n);
      const id = await a.nextExecutableId();
      const recipient = h.recipient();
      const hubAction: HubAction = { actionId: id, kind: 'release', asset: spec.chainAsset, recipient, amount, context: await contextFor(a, id) };
      const unsigned = a.buildAction(hubAction);
      assert.equal(unsigned.actionId, id);
      assert.equal(unsigned.context, hubAction.context ?? '', 'the context it was built against travels with the action');
      assert.deepEqual(h.adapter().buildAction(hubAction), unsigned, 'every honest party builds the same action');
      assert.deepEqual(JSON.parse(JSON.stringify(unsigned.payload)), unsigned.payload, 'the payload is JSON-safe');

      const shares = collectShares(a, unsigned);
      assert.deepEqual(a.signingRequests(unsigned, shares), []);
      const signed = a.assemble(unsigned, shares);
      assert.equal(signed.payloadHash, unsigned.payloadHash);

      const paidBefore = await h.balanceOf(recipient, spec.chainAsset);
      const { record, state } = await land(a, [signed]);
      assert.equal(state, 'included');
      assert.equal(await a.nextExecutableId(), id + 1n, 'the id advanced by one');
      assert.equal((await h.balanceOf(recipient, spec.chainAsset)) - paidBefore, amount, 'the recipient got the amount');

      const execution = await a.findExecution(id);
      assert.ok(execution);
      assert.equal(execution.actionId, id);
      assert.equal(execution.payloadHash, unsigned.payloadHash);
      assert.equal(execution.paid, true);
      assert.equal(execution.txHash, record.txHash);
      assert.equal(await a.findExecution(id + 1n), null, 'an id not executed yet has no execution');

      const head = await untilFinal(a, execution.block.height);
      const observed = (await a.scan(null, head.final)).filter((e) => e.kind === 'execution' && e.actionId === id);
      assert.deepEqual(observed, [execution], 'listeners see the execution with paid = true');
      landed = { id, unsigned, signed, record, recipient, amount, execution };
    });

    it('re-sending the same bytes is harmless, and re-submitting a landed action pays nothing twice', async () => {
      assert.ok(landed, 'needs the landed release of the previous case');
      const a = h.adapter();
      await a.broadcast(landed.record); // a submitter that restarts re-broadcasts what it stored
      assert.equal(await a.submissionState(landed.record), 'included');

      const paid = await h.balanceOf(landed.recipient, spec.chainAsset);
      const outcome = await land(a, [landed.signed]).then(
        // Families whose signatures are deterministic rebuild the very same transaction: the chain knows it landed once.
        (r) => (r.state === 'included' && r.record.txHash === landed?.record.txHash ? 'the same transaction' : r.state),
        (e: unknown) => (e instanceof KlxError ? 'refused' : Promise.reject(e as Error)),
      );
      assert.ok(['reverted', 'refused', 'the same transaction'].includes(outcome), `a second execution must fail, got ${outcome}`);
      assert.equal(await a.nextExecutableId(), landed.id + 1n, 'the id did not move');
      assert.equal(await h.balanceOf(landed.recipient, spec.chainAsset), paid, 'nothing was paid twice');
      assert.deepEqual(await a.findExecution(landed.id), landed.execution);
    });

    it('refuses to assemble below the threshold: missing processor, too few or repeated approvers', async () => {
      const a = h.adapter();
      const id = await a.nextExecutableId();
      const unsigned = a.buildAction({ actionId: id, kind: 'release', asset: spec.chainAsset, recipient: h.recipient(), amount: units(a, 1n), context: await contextFor(a, id) });
      const shares = collectShares(a, unsigned);
      const processor = shares.filter((s) => s.role === 'processor');
      const approvers = shares.filter((s) => s.role === 'approver');
      assert.ok(processor.length >= 1 && approvers.length >= 1);
      const incomplete = isKlxError('INCOMPLETE_SIGNATURES', false);
      assert.throws(() => a.assemble(unsigned, [...processor, ...approvers.slice(0, -1)]), incomplete, 'one approver short');
      assert.throws(() => a.assemble(unsigned, approvers), incomplete, 'no processor');
      assert.throws(() => a.assemble(unsigned, [...processor, ...approvers.map(() => approvers[0] as SignatureShare)]), incomplete, 'one approver repeated');
      assert.ok(a.signingRequests(unsigned, [...processor, ...approvers.slice(0, -1)]).some((r) => r.role === 'approver'), 'the missing approver is still requested');
      assert.ok(a.signingRequests(unsigned, approvers).some((r) => r.role === 'processor'), 'the missing processor is still requested');
      assert.doesNotThrow(() => a.assemble(unsigned, shares));
    });

    it('verifyShare refuses non-members, wrong roles, tampered signatures and shares of another action', async () => {
      const a = h.adapter();
      const id = await a.nextExecutableId();
      const context = await contextFor(a, id);
      const build = (amount: bigint) => a.buildAction({ actionId: id, kind: 'release', asset: spec.chainAsset, recipient: h.recipient(), amount, context });
      const unsigned = build(units(a, 1n));
      const request = a.signingRequests(unsigned, []).find((r) => r.role === 'approver');
      assert.ok(request);
      const sign = (secret: string, role: SignatureShare['role']): SignatureShare => {
        const s = a.signer(secret);
        return { signer: s.address, role, round: request.round, signature: s.sign({ ...request, role }) };
      };
      const approver = sign(h.signers.approvers[0] as string, 'approver');
      assert.ok(a.verifyShare(unsigned, approver));
      assert.equal(a.verifyShare(unsigned, sign(h.signers.outsider, 'approver')), false, 'outsider as approver');
      assert.equal(a.verifyShare(unsigned, sign(h.signers.outsider, 'processor')), false, 'outsider as processor');
      assert.equal(a.verifyShare(unsigned, { ...approver, role: 'processor' }), false, 'an approver is not the processor');
      const processorAddress = a.signer(h.signers.processor).address;
      assert.equal(a.verifyShare(unsigned, { ...approver, signer: processorAddress }), false, 'a share must be by its claimed signer');
      const tampered = Uint8Array.from(approver.signature);
      tampered[5] = (tampered[5] ?? 0) ^ 0xff;
      assert.equal(a.verifyShare(unsigned, { ...approver, signature: tampered }), false, 'tampered signature');
      assert.equal(a.verifyShare(build(units(a, 2n)), approver), false, 'a share of another action');
      assert.throws(
        () => a.assemble(unsigned, [sign(h.signers.processor, 'processor'), ...h.signers.approvers.map(() => sign(h.signers.outsider, 'approver'))]),
        isKlxError('INCOMPLETE_SIGNATURES', false),
        'outsider shares do not count',
      );
    });

    it('a no-op consumes its id and moves nothing', async () => {
      const a = h.adapter();
      const id = await a.nextExecutableId();
      const unsigned = a.buildAction({ actionId: id, kind: 'noop', asset: '', recipient: '', amount: 0n, context: await contextFor(a, id) });
      const custody = (await a.custodyBalances((await a.head()).latest, [spec.chainAsset])).get(spec.chainAsset);
      const { state } = await land(a, [a.assemble(unsigned, collectShares(a, unsigned))]);
      assert.equal(state, 'included');
      assert.equal(await a.nextExecutableId(), id + 1n);
      const execution = await a.findExecution(id);
      assert.equal(execution?.payloadHash, unsigned.payloadHash);
      assert.equal((await a.custodyBalances((await a.head()).latest, [spec.chainAsset])).get(spec.chainAsset), custody);
    });

    it('a batch of consecutive actions lands in one submission, in ascending order; gaps and disorder are refused', async () => {
      const a = h.adapter();
      const amount = units(a, 1n);
      await h.fundCustody(spec.chainAsset, amount * 3n);
      const first = await a.nextExecutableId();
      const nonce = await a.payerNonce(h.payerAddress);
      await assert.rejects(a.prepareSubmission([], h.payer, nonce), (e) => e instanceof KlxError && !e.retriable, 'nothing to submit');
      if (a.maxActionsPerSubmission < 3 || a.signsAfterPreviousExecuted) {
        // One action per submission (each built on what the previous one left): more is refused, not half-landed.
        assert.equal(a.maxActionsPerSubmission, 1, 'a family that cannot batch lands exactly one action per submission');
        const { signed } = await signedRelease(a, first, h.recipient(), amount);
        await assert.rejects(a.prepareSubmission([signed, signed], h.payer, nonce), (e) => e instanceof KlxError && !e.retriable, 'two actions in one submission');
        return;
      }
      const recipients = [h.recipient(), h.recipient(), h.recipient()];
      const batch: SignedAction[] = [];
      for (const [i, r] of recipients.entries()) batch.push((await signedRelease(a, first + BigInt(i), r, amount)).signed);
      const [s1, s2, s3] = batch as [SignedAction, SignedAction, SignedAction];
      await assert.rejects(a.prepareSubmission([s1, s3], h.payer, nonce), (e) => e instanceof KlxError && !e.retriable, 'a gap');
      await assert.rejects(a.prepareSubmission([s2, s1], h.payer, nonce), (e) => e instanceof KlxError && !e.retriable, 'descending ids');

      const { record, state } = await land(a, batch);
      assert.equal(state, 'included');
      assert.equal(await a.nextExecutableId(), first + 3n);
      const executions = await Promise.all(batch.map((s) => a.findExecution(s.actionId)));
      for (const [i, e] of executions.entries()) {
        assert.ok(e, `action ${first + BigInt(i)} executed`);
        assert.equal(e.txHash, record.txHash, 'all in the one submission');
        assert.equal(e.payloadHash, batch[i]?.payloadHash);
        assert.equal(e.paid, true);
        const prev = executions[i - 1];
        if (prev) assert.ok(e.block.height > prev.block.height || (e.block.height === prev.block.height && e.index > prev.index), 'ascending order');
      }
      for (const r of recipients) assert.equal(await h.balanceOf(r, spec.chainAsset), amount);
    });

    it('a prepared but never broadcast submission is unknown to the chain', async () => {
      const a = h.adapter();
      const { signed } = await signedRelease(a, await a.nextExecutableId(), h.recipient(), units(a, 1n));
      const record = await a.prepareSubmission([signed], h.payer, await a.payerNonce(h.payerAddress));
      assert.equal(await a.submissionState(record), 'unknown');
    });
  });
}
