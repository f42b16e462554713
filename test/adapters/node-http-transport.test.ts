/**
 * The node:http JSON-RPC transport reports failures as viem's http transport does, so the
 * EVM adapter's retry decisions do not change with it: a scripted server answers each case.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPublicClient } from 'viem';
import { nodeHttpTransport } from '../../adapters/evm/node-http-transport.ts';
import { isTransient, rpcFailure } from '../../adapters/evm/evm-rpc.ts';

type Script = (body: { id: number; method: string; params: unknown[] }, req: IncomingMessage, res: ServerResponse) => void;

describe('nodeHttpTransport', () => {
  let server: Server;
  let base: string;
  let script: Script = () => undefined;
  const seen: Array<{ auth: string | undefined; url: string | undefined; connection: number }> = [];
  const sockets = new Set<unknown>();

  before(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, url: req.url, connection: sockets.size });
        script(JSON.parse(text) as { id: number; method: string; params: unknown[] }, req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const client = (url = base, timeoutMs?: number) => createPublicClient({ transport: nodeHttpTransport(url, timeoutMs === undefined ? {} : { timeoutMs }), cacheTime: 0 });

  it('answers results over one kept-alive connection, with URL credentials as a basic header and not in the path', async () => {
    script = (b, _req, res) => json(res, 200, { jsonrpc: '2.0', id: b.id, result: b.method === 'eth_chainId' ? '0x7a69' : '0x10' });
    const c = client(`${base.replace('http://', 'http://user:s3cret@')}/rpc/key`);
    const before = seen.length;
    assert.equal(await c.getChainId(), 31337);
    assert.equal(await c.getBlockNumber(), 16n);
    assert.equal(await c.getBlockNumber(), 16n);
    const mine = seen.slice(before);
    assert.deepEqual(mine.map((s) => s.url), ['/rpc/key', '/rpc/key', '/rpc/key']);
    assert.ok(mine.every((s) => s.auth === `Basic ${Buffer.from('user:s3cret').toString('base64')}`));
    assert.equal(new Set(mine.map((s) => s.connection)).size, 1, 'one connection for sequential calls');
  });

  it('reports the node\'s JSON-RPC errors by code, final unless the node is overloaded', async () => {
    script = (b, _req, res) => json(res, 200, { jsonrpc: '2.0', id: b.id, error: { code: -32602, message: 'invalid params' } });
    const refused = await client().getBlockNumber().catch((e: unknown) => e);
    assert.equal(isTransient(refused), false);
    script = (b, _req, res) => json(res, 200, { jsonrpc: '2.0', id: b.id, error: { code: -32005, message: 'limit exceeded' } });
    assert.equal(isTransient(await client().getBlockNumber().catch((e: unknown) => e)), true);
  });

  it('treats 5xx, 429, a dropped connection and a timeout as transient, and a 4xx answer as final', async () => {
    const outcome = async (s: Script, timeoutMs?: number) => {
      script = s;
      return isTransient(await client(base, timeoutMs).getBlockNumber().catch((e: unknown) => e));
    };
    assert.equal(await outcome((_b, _q, res) => json(res, 502, 'bad gateway')), true);
    assert.equal(await outcome((_b, _q, res) => json(res, 429, { message: 'slow down' })), true);
    assert.equal(await outcome((_b, req) => req.socket.destroy()), true);
    assert.equal(await outcome(() => undefined, 200), true, 'no answer at all');
    assert.equal(await outcome((_b, _q, res) => json(res, 403, { message: 'forbidden' })), false);
    // As viem: a 2xx answer that is not JSON is a transport failure; a non-2xx one without a well-formed error an HTTP one.
    assert.equal(await outcome((_b, _q, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>gateway</html>'); }), true);
    assert.equal(await outcome((_b, _q, res) => json(res, 503, { error: 'rate limited' })), true);
    assert.equal(await outcome((b, _q, res) => json(res, 429, { jsonrpc: '2.0', id: b.id, error: { code: 429, message: 'too many requests' } })), true);
    assert.equal(await outcome((b, _q, res) => json(res, 400, { jsonrpc: '2.0', id: b.id, error: { code: -32602, message: 'invalid params' } })), false);
  });

  it('gives up on an answer that trickles in past the deadline', async () => {
    let timer: NodeJS.Timeout | undefined;
    script = (_b, req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      timer = setInterval(() => res.write(' '), 30);
      req.socket.on('close', () => clearInterval(timer));
    };
    const err = await client(base, 300).getBlockNumber().catch((e: unknown) => e);
    clearInterval(timer);
    assert.equal(isTransient(err), true);
    assert.match(String((err as Error).message), /took too long|timed out/i);
  });

  it('keeps the URL, with its key, out of what the adapter reports', async () => {
    script = (_b, _q, res) => json(res, 500, 'boom');
    const err = await client(`${base}/v2/super-secret-api-key`).getBlockNumber().catch((e: unknown) => e);
    const reported = rpcFailure('ethereum', 'eth_blockNumber', err);
    assert.equal(reported.retriable, true);
    assert.doesNotMatch(reported.message, /super-secret-api-key/);
  });
});
