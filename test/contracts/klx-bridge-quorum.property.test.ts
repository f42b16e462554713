/**
 * Property test: over random validator sets, quorums and signer lists (members, repeats,
 * strangers, in any order), the bridge accepts an action exactly when the processor signed
 * and at least M distinct approvers did, and otherwise names the first problem.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createEvmChain, expectRevert, type EvmChain } from './evm-chain.ts';
import { deployBridge, key, Kind, NATIVE, signAction, validators } from './bridge-fixture.ts';

describe('KlxBridge quorum property', () => {
  let chain: EvmChain;
  before(async () => {
    chain = await createEvmChain();
  });
  after(async () => chain.close());

  it('accepts exactly the signer lists that reach the quorum, for random sets', async () => {
    const strangers = [key('s0'), key('s1')];
    const scenario = fc
      .integer({ min: 1, max: 9 })
      .chain((k) =>
        fc.record({
          k: fc.constant(k),
          m: fc.integer({ min: Math.floor(k / 2) + 1, max: k }),
          // Each entry: an approver index, or -1/-2 for a stranger.
          signers: fc.array(fc.integer({ min: -2, max: k - 1 }), { maxLength: k + 2 }),
          processorSigns: fc.boolean(),
        }),
      );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ k, m, signers, processorSigns }) => {
        runs++;
        const v = validators(k, m, 3, 2, `prop${k}`);
        const f = await deployBridge(chain, v);
        const act = { kind: Kind.NoOp, token: NATIVE, recipient: NATIVE, amount: 0n };
        const processorSig = await signAction(processorSigns ? v.processor : v.approvers[0]!, f.domain, 1n, act);
        const sigs = await Promise.all(signers.map((i) => signAction(i >= 0 ? v.approvers[i]! : strangers[-i - 1]!, f.domain, 1n, act)));
        // The expected outcome, by the documented rule.
        let expected = 'ok';
        if (!processorSigns) expected = 'NotProcessor';
        else {
          const seen = new Set<number>();
          for (const i of signers) {
            if (i < 0) {
              expected = 'UnknownSigner';
              break;
            }
            if (seen.has(i)) {
              expected = 'DuplicateSigner';
              break;
            }
            seen.add(i);
          }
          if (expected === 'ok' && seen.size < m) expected = 'QuorumNotReached';
        }
        const call = f.bridge.simulate.execute([1n, act, processorSig, sigs]);
        if (expected === 'ok') await call;
        else assert.equal((await expectRevert(call)).errorName, expected);
      }),
      { numRuns: 40, seed: Number(process.env.KLX_TEST_SEED ?? 20261121) },
    );
    assert.equal(runs, 40);
  });
});
