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
  private readonly inFlight = new Map<number, { worker: Worker; batch: Waiting[] }>();
  /** Workers hold the event loop open only while they owe an answer. */
  private readonly owed = new Map<Worker, number>();
  private pending: Waiting[] = [];
  private scheduled = false;
  private nextId = 0;
  private nextWorker = 0;
  private closed = false;

  constructor(size = 1) {
    this.workers = Array.from({ length: Math.max(1, size) }, (_, slot) => this.spawn(slot));
  }

  /** Starts the worker of `slot`; a worker that dies fails what it owed and is replaced. */
  private spawn(slot: number): Worker {
    const w = new Worker(new URL('./ed25519-verify-worker.mjs', import.meta.url));
    w.on('message', (m: { id: number; results: boolean[] }) => this.settle(m.id, m.results));
    w.on('error', () => undefined); // followed by 'exit'
    w.on('exit', () => {
      this.failOwedBy(w, new Error('signature verifier worker exited'));
      if (!this.closed) this.workers[slot] = this.spawn(slot);
    });
    w.unref();
    return w;
  }

  private failOwedBy(worker: Worker, e: Error): void {
    for (const [id, entry] of this.inFlight) {
      if (entry.worker !== worker) continue;
      this.inFlight.delete(id);
      for (const w of entry.batch) w.reject(e);
    }
    this.owed.delete(worker);
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
    const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
    this.inFlight.set(id, { worker, batch });
    const owed = (this.owed.get(worker) ?? 0) + 1;
    this.owed.set(worker, owed);
    if (owed === 1) worker.ref();
    worker.postMessage({ id, items: batch.flatMap((w) => w.claims) });
  }

  private settle(id: number, results: boolean[]): void {
    const entry = this.inFlight.get(id);
    this.inFlight.delete(id);
    if (!entry) return;
    const owed = (this.owed.get(entry.worker) ?? 1) - 1;
    this.owed.set(entry.worker, owed);
    if (owed === 0) entry.worker.unref();
    let i = 0;
    for (const w of entry.batch) {
      w.resolve(results.slice(i, i + w.claims.length));
      i += w.claims.length;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
