/**
 * The coordinator's HTTP API (JSON): what users and the channels' resolvers call.
 * - POST /v1/transfers {request}: a sender's signed `xfer-request` (hex) → {id}
 * - GET  /v1/transfers/<epoch.seq>: every state the transfer passed through, and each channel's record
 * - POST /v1/inquiries {channel, id, migration?}: a resolver's question → {decision}
 * - GET  /health
 * Errors are {error: {code, message, retriable}} with 400 (bad input), 404 (unknown id) or 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { KlxError, TxRejected } from '../relayer/ledger/errors.ts';
import type { CoordinatorService } from './coordinator-service.ts';

const MAX_BODY = 64 * 1024;
const beginSchema = z.strictObject({ request: z.string().regex(/^([0-9a-f]{2}){1,6000}$/, 'hex of a signed xfer-request') });
const inquirySchema = z.strictObject({
  channel: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  id: z.string().regex(/^[0-9]{1,19}\.[0-9]{1,19}$/),
  migration: z.strictObject({ chain: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), eventId: z.string().regex(/^(0|[1-9][0-9]{0,19})$/) }).optional(),
});

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new TxRejected('TX_TOO_LARGE', `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new TxRejected('TX_MALFORMED', 'the body is not JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, json: unknown): T {
  const p = schema.safeParse(json);
  if (!p.success) throw new TxRejected('TX_MALFORMED', p.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return p.data;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function statusOf(e: KlxError): number {
  if (e.code === 'NEVER_ISSUED' || e.code === 'NOT_FOUND') return 404;
  if (e.retriable) return 503;
  return 400;
}

export function startCoordinatorApi(service: CoordinatorService, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://coordinator');
        const parts = url.pathname.split('/').filter(Boolean);
        if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { status: service.coordinator ? 'active' : 'standby', epoch: service.coordinator?.epoch.toString() ?? null });
        if (parts[0] !== 'v1') throw new KlxError('NOT_FOUND', 'no such route', false);
        if (req.method === 'POST' && parts[1] === 'transfers' && parts.length === 2) {
          const { request } = parse(beginSchema, await readJson(req));
          return send(res, 202, { id: await service.begin(request) });
        }
        if (req.method === 'GET' && parts[1] === 'transfers' && parts.length === 3) return send(res, 200, await service.status(parts[2] ?? ''));
        if (req.method === 'POST' && parts[1] === 'inquiries' && parts.length === 2) {
          const q = parse(inquirySchema, await readJson(req));
          return send(res, 200, { decision: await service.inquire(q.channel, q.id, q.migration) });
        }
        throw new KlxError('NOT_FOUND', 'no such route', false);
      } catch (e) {
        const err = e instanceof KlxError ? e : new KlxError('INTERNAL', 'internal error', true);
        send(res, statusOf(err), { error: { code: err.code, message: err.message, retriable: err.retriable } });
      }
    })();
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
