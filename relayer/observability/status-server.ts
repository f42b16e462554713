/** A role's own /health and /metrics endpoints (for roles that serve no other API, e.g. a follower). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StatusSources {
  health: () => Record<string, unknown> & { status: 'ok' | 'halted' | 'starting' };
  metrics: () => Promise<{ contentType: string; body: string }>;
}

export async function startStatusServer(port: number, host: string, sources: StatusSources): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      const h = sources.health();
      const text = JSON.stringify(h);
      res.writeHead(h.status === 'halted' ? 503 : 200, { 'content-type': 'application/json' }).end(text);
      return;
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      sources.metrics().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NOT_FOUND","message":"no such route","retriable":false}}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
