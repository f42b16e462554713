// Worker thread of Ed25519VerifierPool: verifies batches of ed25519 signatures with
// Node's crypto. Plain JavaScript on purpose: it needs no TypeScript loader.
import { createPublicKey, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();

function keyOf(pub) {
  const id = Buffer.from(pub).toString('hex');
  let key = keys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    if (keys.size >= 10000) keys.clear();
    keys.set(id, key);
  }
  return key;
}

parentPort.on('message', ({ id, items }) => {
  const results = items.map(({ publicKey, message, signature }) => {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, keyOf(publicKey), signature);
    } catch {
      return false;
    }
  });
  parentPort.postMessage({ id, results });
});
