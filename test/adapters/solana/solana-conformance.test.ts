/**
 * The Solana adapter passes the shared ChainAdapter conformance suite, through its real
 * @solana/web3.js Connection against the bankrun JSON-RPC server (real SPL Token, ATA and
 * Memo programs). `finalized` trails by 2 slots so that depth matters. The same suite runs
 * against a real solana-test-validator in test/devnets/ (opt-in).
 */
import { chainAdapterConformance } from '../conformance.ts';
import { startSolanaBridge } from '../../helpers/solana-bridge.ts';
import { solanaHarness } from './solana-harness.ts';

chainAdapterConformance('SolanaAdapter over the bankrun RPC', async () => solanaHarness(await startSolanaBridge({ finalityLag: 2 })));
