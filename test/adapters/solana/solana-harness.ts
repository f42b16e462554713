/** The conformance harness of a test Solana bridge (bankrun here, a real validator in test/devnets/). */
import { base58 } from '@scure/base';
import { Keypair, PublicKey } from '@solana/web3.js';
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import type { ConformanceHarness } from '../conformance.ts';
import type { SolanaBridge } from '../../helpers/solana-bridge.ts';

export async function solanaHarness(b: SolanaBridge): Promise<ConformanceHarness> {
  await b.mintTo(b.lockMint, b.user.publicKey.toBase58(), 10n ** 15n);
  const wallet = Keypair.generate().publicKey.toBase58();
  const pda = getAssociatedTokenAddressSync(new PublicKey(b.lockMint), new PublicKey(wallet)).toBase58();
  // One byte too short and one too long, built from bytes: editing the base58 text of a random key
  // (say, appending '1') sometimes still decodes to 32 bytes on the curve, which made this flaky.
  const bytes = new PublicKey(wallet).toBytes();
  const tooShort = base58.encode(bytes.slice(1));
  const tooLong = base58.encode(Uint8Array.from([...bytes, 7]));
  return {
    adapter: () => b.adapter(),
    assets: { locked: { chainAsset: b.lockMint, decimals: 6, hubDecimals: 6, mode: 'lock' } },
    validAddresses: [wallet, b.options.processor],
    invalidAddresses: ['', 'not base58!', '11111111111111111111111111111111', pda, tooShort, tooLong, '0x0000000000000000000000000000000000000001', ` ${wallet}`],
    recipient: () => Keypair.generate().publicKey.toBase58(),
    async deposit(d) {
      const memo = d.refundTo ? `${d.hubRecipient} refund=${d.refundTo}` : d.hubRecipient;
      return { txHash: await b.deposit({ mint: d.asset, amount: d.amount, memo }) };
    },
    advance: (slots) => b.rpc.advance(slots),
    signers: { processor: b.seeds.processor, approvers: b.seeds.approvers, outsider: b.seeds.outsider },
    payer: b.seeds.payer,
    payerAddress: b.options.feePayer,
    async fundCustody(asset, amount) {
      // A top-up minted straight into custody: no transfer, so no deposit.
      await b.mintTo(asset, b.options.multisig, amount);
    },
    balanceOf: (owner, asset) => b.tokenBalance(owner, asset),
    close: () => b.close(),
  };
}
