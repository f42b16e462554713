/**
 * Where transaction signatures are verified before a transaction is queued.
 * `InlineSignatureVerifier` verifies on the calling thread. `Ed25519VerifierPool` moves
 * the work (166 µs per signature on the project's machines) to worker threads, batching
 * what arrives in one turn of the event loop into one message per worker.
 */
import { Worker } from 'node:worker_threads';
import { verifyEd25519 } from '../ledger/keys.ts';
import type { SignatureClaim } from '../ledger/transaction.ts';

export interface SignatureVerifier {
  verify(claims: readonly SignatureClaim[]): Promise<boolean[]>;
  close(): Promise<void>;
}

export class InlineSignatureVerifier implements SignatureVerifier {
  verify(claims: readonly SignatureClaim[]): Promise<boolean[]> {
    return Promise.resolve(claims.map((c) => verifyEd25519(c.publicKey, c.message, c.signature)));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Waiting {
  claims: readonly SignatureClaim[];
  resolve: (r: boolean[]) => void;
  reject: (e: Error) => void;
}

export class Ed25519VerifierPool implements SignatureVerifier {
  private readonly workers: Worker[];
  private readonly inFlight = new Map<number, Waiting[]>();
  private pending: Waiting[] = [];
  private scheduled = false;
  private nextId = 0;
  private nextWorker = 0;
  private closed = false;

  constructor(size = 1) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const w = new Worker(new URL('./ed25519-verify-worker.mjs', import.meta.url));
      w.on('message', (m: { id: number; results: boolean[] }) => this.settle(m.id, m.results));
      w.on('error', (e) => this.failAll(e));
      w.unref();
      return w;
    });
  }

  verify(claims: readonly SignatureClaim[]): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new Error('signature verifier pool is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ claims, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const id = this.nextId++;
    this.inFlight.set(id, batch);
    const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
    worker.postMessage({ id, items: batch.flatMap((w) => w.claims) });
  }

  private settle(id: number, results: boolean[]): void {
    const batch = this.inFlight.get(id);
    this.inFlight.delete(id);
    let i = 0;
    for (const w of batch ?? []) {
      w.resolve(results.slice(i, i + w.claims.length));
      i += w.claims.length;
    }
  }

  private failAll(e: Error): void {
    for (const batch of this.inFlight.values()) for (const w of batch) w.reject(e);
    this.inFlight.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('signature verifier pool closed'));
  }
}
