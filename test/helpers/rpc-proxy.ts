/**
 * A JSON-RPC server for adapter tests: each request goes to `answer`, which returns a
 * result, an error, or undefined to pass the request to `upstream` (a real node), whose
 * answer `seen` may record. Single requests only (the adapters send no batches).
 */
import { createServer, type Server } from 'node:http';

export interface RpcRequest {
  id: number;
  method: string;
  params: unknown[];
}

export type RpcAnswer = { result: unknown } | { error: { code: number; message: string } } | undefined;

export interface RpcProxy {
  url: string;
  close(): Promise<void>;
}

export async function startRpcProxy(o: { upstream?: string; answer?: (m: RpcRequest) => RpcAnswer; seen?: (m: RpcRequest, result: unknown) => void }): Promise<RpcProxy> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const m = JSON.parse(body) as RpcRequest;
      const own = o.answer?.(m);
      if (own !== undefined || !o.upstream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, ...(own ?? { error: { code: -32601, message: 'method not found' } }) }));
        return;
      }
      fetch(o.upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (r) => {
          const text = await r.text();
          o.seen?.(m, (JSON.parse(text) as { result?: unknown }).result);
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(text);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
