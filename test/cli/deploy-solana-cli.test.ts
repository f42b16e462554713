/**
 * `klx-bridge deploy solana` against the bankrun JSON-RPC server (real SPL Token program):
 * the record it writes describes accounts that exist on the cluster with the right
 * authorities, and bad options exit 2 before anything is sent.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Keypair, PublicKey, SystemProgram } from '@solana/web3.js';
import { NATIVE_MINT, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { readSolanaDeployment } from '../../adapters/solana/deployment.ts';
import { SolanaBankrunRpc } from '../../relayer/devnet/solana-bankrun-rpc.ts';
import { runCli, writeTempJson } from '../helpers/processes.ts';

describe('klx-bridge deploy solana', () => {
  let rpc: SolanaBankrunRpc;
  let url: string;
  const payerSeed = '5a'.repeat(32);
  const payer = Keypair.fromSeed(Buffer.from(payerSeed, 'hex'));
  const key = () => Keypair.generate().publicKey.toBase58();
  const processor = key();
  const approvers = [key(), key(), key()];
  const feePayer = key();
  const args = (out: string, extra: string[] = []) => [
    'deploy', 'solana', '--rpc-url', url, '--processor', processor, '--approvers', approvers.join(','), '--approver-quorum', '2', '--fee-payer', feePayer, '--out', out, ...extra,
  ];

  before(async () => {
    rpc = await SolanaBankrunRpc.start();
    url = await rpc.listen();
    await rpc.send([SystemProgram.transfer({ fromPubkey: rpc.payer.publicKey, toPubkey: payer.publicKey, lamports: 10_000_000_000 })]);
  });
  after(async () => {
    await rpc?.close();
  });

  it('creates the multisig (threshold M + 1), the bridged-KLX mint under it, wrapped-SOL custody and the nonce account', async () => {
    const out = join(writeTempJson('placeholder.json', {}), '..', 'solana.json');
    const r = await runCli(args(out), { KLX_SOLANA_DEPLOYER_KEY: payerSeed });
    assert.equal(r.code, 0, r.output);
    assert.ok(!r.output.includes(payerSeed), 'the key is never printed');
    const d = readSolanaDeployment(out);
    assert.deepEqual([d.processor, d.approvers, d.approverQuorum, d.feePayer, d.klxDecimals], [processor, approvers, 2, feePayer, 7]);
    assert.match(d.cluster, /^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'the genesis hash by default');

    const multisig = await rpc.accountData(d.multisig);
    assert.ok(multisig);
    assert.deepEqual([multisig[0], multisig[1], multisig[2]], [3, 4, 1], 'm = 3 of n = 4, initialized');
    const signers = [0, 1, 2, 3].map((i) => new PublicKey(multisig.subarray(3 + 32 * i, 35 + 32 * i)).toBase58());
    assert.deepEqual(signers, [processor, ...approvers]);

    const mint = await rpc.accountData(d.klxMint ?? '');
    assert.ok(mint);
    assert.equal(new PublicKey(mint.subarray(4, 36)).toBase58(), d.multisig, 'mint authority: the multisig');
    assert.equal(mint[44], 7);

    const nonce = await rpc.accountData(d.nonceAccount);
    assert.ok(nonce);
    assert.equal(new PublicKey(nonce.subarray(8, 40)).toBase58(), processor, 'nonce authority: the processor');
    assert.ok(await rpc.accountData(getAssociatedTokenAddressSync(NATIVE_MINT, new PublicKey(d.multisig), true).toBase58()), 'wrapped-SOL custody account');
    assert.ok(BigInt(d.startSlot) > 0n);
  });

  it('refuses bad options and a malformed key with exit 2, sending nothing', async () => {
    const before = await rpc.slot();
    const out = join(writeTempJson('placeholder.json', {}), '..', 'never.json');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--approver-quorum', '1'], { KLX_SOLANA_DEPLOYER_KEY: payerSeed }, /not a strict majority/],
      [['--klx-decimals', '9'], { KLX_SOLANA_DEPLOYER_KEY: payerSeed }, /--klxDecimals/],
      [['--custody-mints', 'sol,nope'], { KLX_SOLANA_DEPLOYER_KEY: payerSeed }, /--custodyMints/],
      [[], { KLX_SOLANA_DEPLOYER_KEY: 'zz'.repeat(32) }, /64-hex-character seed or a solana-keygen JSON keypair/],
      [[], { KLX_SOLANA_DEPLOYER_KEY: '' }, /no deployer key/],
    ];
    for (const [extra, env, reason] of cases) {
      const r = await runCli(args(out, extra), env);
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, reason);
      assert.ok(!r.output.includes('zz'.repeat(32)));
    }
    const offCurve = getAssociatedTokenAddressSync(NATIVE_MINT, payer.publicKey).toBase58();
    const r = await runCli([...args(out), '--processor', offCurve], { KLX_SOLANA_DEPLOYER_KEY: payerSeed });
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, /off the ed25519 curve/);
    assert.equal(await rpc.slot(), before, 'no transaction landed');
  });
});
