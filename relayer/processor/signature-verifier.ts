/**
 * Where transaction signatures are verified before a transaction is queued.
 * `InlineSignatureVerifier` verifies on the calling thread. `Ed25519VerifierPool` moves
 * the work (166 µs per signature on the project's machines) to worker threads, batching
 * what arrives in one turn of the event loop into one message per worker. Answers are
 * delivered in the order the calls were made, whatever worker finishes first, so the
 * processor's queue keeps arrival order.
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

interface Sent {
  worker: Worker;
  batch: Waiting[];
  outcome?: boolean[] | Error;
}

export class Ed25519VerifierPool implements SignatureVerifier {
  private readonly workers: Worker[];
  private readonly sent = new Map<number, Sent>();
  /** Workers hold the event loop open only while they owe an answer. */
  private readonly owed = new Map<Worker, number>();
  private readonly crashes: number[] = [];
  private readonly dead = new Set<Worker>();
  private pending: Waiting[] = [];
  private scheduled = false;
  private nextId = 0;
  private nextToDeliver = 0;
  private nextWorker = 0;
  private closed = false;

  constructor(size = 1) {
    this.workers = Array.from({ length: Math.max(1, size) }, (_, slot) => this.spawn(slot));
  }

  /** Starts the worker of `slot`; a worker that dies fails what it owed and is replaced (with backoff if it keeps dying). */
  private spawn(slot: number): Worker {
    const w = new Worker(new URL('./ed25519-verify-worker.mjs', import.meta.url));
    const started = Date.now();
    w.on('message', (m: { id: number; results: boolean[] }) => this.settle(m.id, m.results));
    w.on('error', () => undefined); // followed by 'exit'
    w.on('exit', () => {
      this.dead.add(w);
      for (const [id, s] of this.sent) if (s.worker === w && !s.outcome) this.settle(id, new Error('signature verifier worker exited'));
      if (this.closed) return;
      this.crashes[slot] = Date.now() - started < 1000 ? (this.crashes[slot] ?? 0) + 1 : 0;
      const delay = Math.min(100 * 2 ** (this.crashes[slot] ?? 0), 5000);
      this.workers[slot] = w; // keep a (dead) placeholder until the replacement starts
      setTimeout(() => {
        if (this.closed) return;
        this.workers[slot] = this.spawn(slot);
        this.schedule();
      }, this.crashes[slot] ? delay : 0).unref();
    });
    w.unref();
    return w;
  }

  verify(claims: readonly SignatureClaim[]): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new Error('signature verifier pool is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ claims, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.closed) return;
    let worker: Worker | undefined;
    for (let tries = 0; tries < this.workers.length && !worker; tries++) {
      const candidate = this.workers[this.nextWorker++ % this.workers.length] as Worker;
      if (!this.dead.has(candidate)) worker = candidate;
    }
    if (!worker) {
      this.pending = [...batch, ...this.pending]; // every worker is restarting: the replacement flushes
      return;
    }
    const id = this.nextId++;
    this.sent.set(id, { worker, batch });
    const owed = (this.owed.get(worker) ?? 0) + 1;
    this.owed.set(worker, owed);
    if (owed === 1) worker.ref();
    try {
      worker.postMessage({ id, items: batch.flatMap((w) => w.claims) });
    } catch (e) {
      this.settle(id, e as Error);
    }
  }

  private settle(id: number, outcome: boolean[] | Error): void {
    const s = this.sent.get(id);
    if (!s || s.outcome) return;
    s.outcome = outcome;
    const owed = (this.owed.get(s.worker) ?? 1) - 1;
    this.owed.set(s.worker, owed);
    if (owed === 0) s.worker.unref();
    // Deliver strictly in call order.
    for (let next = this.sent.get(this.nextToDeliver); next?.outcome; next = this.sent.get(this.nextToDeliver)) {
      this.sent.delete(this.nextToDeliver++);
      const result = next.outcome;
      let i = 0;
      for (const w of next.batch) {
        if (result instanceof Error) w.reject(result);
        else w.resolve(result.slice(i, i + w.claims.length));
        i += w.claims.length;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const waiting = this.pending;
    this.pending = [];
    for (const w of waiting) w.reject(new Error('signature verifier pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
