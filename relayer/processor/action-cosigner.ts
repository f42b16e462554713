/**
 * ActionCosigner: the processor's part of every withdrawal. It registers the configured
 * chains on the bridge channel (once), and co-signs action n with the processor's chain
 * key once M approvers' shares of the same payload are on the hub and verify against
 * the chain's signer set. Its co-signature is itself a hub transaction (`cosign`), so
 * the signed action is in PostgreSQL before any submitter can see it.
 */
import type { ChainSigner } from '../../adapters/chain-adapter.ts';
import type { ActionRecord, OverrideRecord } from '../ledger/bridge-state.ts';
import { chunksForTx, MAX_SIGNATURES_PER_TX, type SignatureShareBody } from '../ledger/bridge-bodies.ts';
import type { KlxError } from '../ledger/errors.ts';
import type { Ed25519Signer } from '../ledger/keys.ts';
import { addressFromPublicKey } from '../ledger/address.ts';
import { signTx, type ChannelContext } from '../ledger/transaction.ts';
import type { TxBodies } from '../ledger/tx-bodies.ts';
import { TypedEmitter, Wakeup } from '../events.ts';
import type { ChannelStore } from '../store/channel-store.ts';
import { RegistrationMismatch, sameRegistration, type ConfiguredChain } from '../bridge/bridge-setup.ts';
import { approvalContexts, mayHaveQuorum, processorRequestFor, shareToBody, unsignedOf } from '../bridge/action-records.ts';
import type { ChannelProcessor } from './processor.ts';

export interface CosignerEvents {
  registered: { chain: string };
  cosigned: { chain: string; actionIds: string[] };
  'override-confirmed': { chain: string; actionId: string; kind: string };
  alarm: { chain: string; code: string; message: string };
}

const REGISTER_LANE = 1;
const COSIGN_LANE = 2;
/**
 * Transactions that never give the co-signer work (it co-signs after approvals and confirms
 * overrides last): commits of only these do not wake it. The hub's busiest kinds.
 */
const NO_COSIGNER_WORK = new Set(['withdraw', 'attest', 'custody-sync', 'cosign', 'transfer', 'withdraw-cancel']);
const OVERRIDE_LANE = 3;

export class ActionCosigner extends TypedEmitter<CosignerEvents> {
  private readonly address: string;
  private readonly nonces = new Map<number, bigint>();
  /** Rung at each commit of the processor's channel: only a new block can bring new approvals. */
  private readonly commits = new Wakeup();

  constructor(
    private readonly processor: ChannelProcessor,
    private readonly store: ChannelStore,
    private readonly context: ChannelContext,
    private readonly producer: Ed25519Signer,
    private readonly chains: readonly { chain: ConfiguredChain; signer: ChainSigner }[],
  ) {
    super();
    this.address = addressFromPublicKey(context.addressPrefix, producer.publicKey);
    processor.on('blocks-committed', (e) => {
      if (e.txTypes.some((t) => !NO_COSIGNER_WORK.has(t))) this.commits.ring();
    });
    processor.on('leader-elected', () => this.commits.ring()); // registers the chains at once
  }

  /**
   * Works whenever the processor commits blocks (approvals arrive as blocks), and at least
   * every `idleMs` (leadership changes, a retry after an alarm).
   */
  async run(signal: AbortSignal, idleMs = 1_000): Promise<void> {
    while (!signal.aborted) {
      const seen = this.commits.seen;
      let worked = 0;
      if (this.processor.isLeader) {
        for (const c of this.chains) {
          try {
            worked += await this.tick(c);
          } catch (e) {
            this.nonces.clear(); // a failed submission may not have consumed its nonce
            this.emit('alarm', { chain: c.chain.name, code: (e as KlxError).code ?? 'ERROR', message: (e as Error).message });
          }
        }
      }
      if (worked === 0) await this.commits.wait(seen, idleMs, signal);
    }
  }

  private async submit<T extends keyof TxBodies>(type: T, body: TxBodies[T], lane: number): Promise<void> {
    const nonce = this.nonces.get(lane) ?? BigInt((await this.store.noncesOf(this.address))[String(lane)] ?? '0');
    const tx = signTx({ ...this.context, type, sender: this.address, lane, nonce, body }, this.producer);
    await this.processor.submit(tx);
    this.nonces.set(lane, nonce + 1n);
  }

  async tick(c: { chain: ConfiguredChain; signer: ChainSigner }): Promise<number> {
    const { chain, signer } = c;
    const rec = await this.store.record(`chain/${chain.name}`);
    if (rec === null) {
      await this.submit('chain-register', chain.registration, REGISTER_LANE);
      this.emit('registered', { chain: chain.name });
      return 1;
    }
    if (!sameRegistration(rec, chain)) throw new RegistrationMismatch(chain.name);
    // The processor confirms a hard override last, once M approvers have (the rules check it again).
    const overrides = (await this.store.recordsWithStatus(`override/${chain.name}/`, 'proposed', 64)) as OverrideRecord[];
    for (const ov of overrides.filter((x) => x.confirmations.length >= chain.registration.approverQuorum)) {
      await this.submit('override-confirm', { chain: chain.name, actionId: ov.actionId }, OVERRIDE_LANE);
      this.emit('override-confirmed', { chain: chain.name, actionId: ov.actionId, kind: ov.kind });
      return 1;
    }
    const created = (await this.store.recordsWithStatus(`action/${chain.name}/`, 'created', 4 * MAX_SIGNATURES_PER_TX)) as ActionRecord[];
    const items: SignatureShareBody[] = [];
    for (const a of created) {
      // Approvers built the action against the context they read from the chain; the processor checks each candidate.
      for (const context of approvalContexts(a)) {
        if (!mayHaveQuorum(a, context, chain.registration.approverQuorum)) continue;
        const unsigned = unsignedOf(chain.adapter, a, context);
        const request = processorRequestFor(chain.adapter, unsigned, a, chain.registration.approverQuorum);
        if (!request) continue;
        items.push(shareToBody(unsigned, { signer: signer.address, role: 'processor', round: request.round, signature: signer.sign(request) }));
        break;
      }
      if (items.length >= MAX_SIGNATURES_PER_TX) break;
    }
    if (items.length === 0) return 0;
    for (const chunk of chunksForTx(items, MAX_SIGNATURES_PER_TX)) await this.submit('cosign', { chain: chain.name, items: chunk }, COSIGN_LANE);
    this.emit('cosigned', { chain: chain.name, actionIds: items.map((i) => i.actionId) });
    return items.length;
  }
}
