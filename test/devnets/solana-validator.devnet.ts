/**
 * Opt-in: the Solana conformance suite against a real solana-test-validator (docker compose
 * --profile solana up solana-validator), through the same adapter and harness as the bankrun
 * run. Not part of `npm test` (no validator runs on CI machines); run it with
 *   KLX_SOLANA_RPC_URL=http://127.0.0.1:8899 npm run test:devnets
 * It refuses to start without the URL rather than pass silently.
 */
import { Connection, Keypair, LAMPORTS_PER_SOL, Transaction, sendAndConfirmTransaction, type TransactionInstruction } from '@solana/web3.js';
import { chainAdapterConformance } from '../adapters/conformance.ts';
import { solanaHarness } from '../adapters/solana/solana-harness.ts';
import { deploySolanaBridge, type SolanaTestChain } from '../helpers/solana-bridge.ts';

const url = process.env.KLX_SOLANA_RPC_URL;
if (!url) throw new Error('KLX_SOLANA_RPC_URL is not set: start solana-test-validator (docker compose --profile solana up) and point it there');

async function validatorChain(rpcUrl: string): Promise<SolanaTestChain> {
  const connection = new Connection(rpcUrl, 'confirmed');
  const payer = Keypair.generate();
  const sig = await connection.requestAirdrop(payer.publicKey, 100 * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature: sig, ...(await connection.getLatestBlockhash()) }, 'finalized');
  return {
    payer,
    async send(instructions: TransactionInstruction[], signers: Keypair[] = [], from: Keypair = payer) {
      return sendAndConfirmTransaction(connection, new Transaction().add(...instructions), [from, ...signers], { commitment: 'confirmed' });
    },
    advance: (slots) => new Promise((r) => setTimeout(r, slots * 400)),
    async accountData(address) {
      const { PublicKey } = await import('@solana/web3.js');
      const a = await connection.getAccountInfo(new PublicKey(address), 'confirmed');
      return a ? new Uint8Array(a.data) : null;
    },
    rentFor: (size) => connection.getMinimumBalanceForRentExemption(size),
    slot: async () => BigInt(await connection.getSlot('confirmed')),
    close: () => Promise.resolve(),
  };
}

chainAdapterConformance('SolanaAdapter on solana-test-validator', async () => {
  const chain = await validatorChain(url);
  return solanaHarness(await deploySolanaBridge(chain, url, { fresh: true }));
});
