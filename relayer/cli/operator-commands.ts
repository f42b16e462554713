/** Operator subcommands: audit, migrate, keygen. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addressFromPublicKey } from '../ledger/address.ts';
import { fromHex, toHex } from '../ledger/bytes.ts';
import { ConfigError } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { auditChannel } from '../audit/audit.ts';
import { createPool } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { configFrom } from './shared.ts';
import { genesisSpec } from '../config/config.ts';

function databaseUrl(opts: { config?: string; databaseUrl?: string }): { url: string; schema?: string } {
  if (opts.databaseUrl) return { url: opts.databaseUrl };
  if (process.env.DATABASE_URL && !opts.config && !process.env.KLX_CONFIG) return { url: process.env.DATABASE_URL };
  const cfg = configFrom(opts);
  return { url: cfg.databaseUrl, schema: cfg.schema };
}

function producerArg(hex: string): Uint8Array {
  try {
    return fromHex(hex, 32);
  } catch {
    throw new ConfigError('--producer must be a 32-byte public key in hex');
  }
}

export function registerOperatorCommands(program: Command): void {
  program
    .command('audit')
    .description('replay a channel from genesis out of PostgreSQL and verify every hash, signature, nonce and balance')
    .requiredOption('--channel <name>', 'channel to audit')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--database-url <url>', 'PostgreSQL URL (default: from config or $DATABASE_URL)')
    .option('--schema <name>', 'ledger schema', undefined)
    .option('--producer <hex>', 'pin the producer public key the genesis must name')
    .action(async (opts: { channel: string; config?: string; databaseUrl?: string; schema?: string; producer?: string }) => {
      const db = databaseUrl(opts);
      // With a config, everything it says about the channel is pinned: network, prefix, producer, genesis.
      const cfg = opts.config || process.env.KLX_CONFIG ? configFrom(opts) : undefined;
      const ch = cfg?.channels.find((c) => c.name === opts.channel);
      if (cfg && !ch) throw new ConfigError(`channel "${opts.channel}" is not in the config`);
      const producer = opts.producer ? producerArg(opts.producer) : ch?.producerPublicKey ? fromHex(ch.producerPublicKey, 32) : undefined;
      const pool = createPool(db.url, 2);
      try {
        const report = await auditChannel({
          pool,
          schema: opts.schema ?? db.schema ?? 'hub',
          channel: opts.channel,
          ...(producer ? { producer } : {}),
          ...(cfg && ch ? { pin: { network: cfg.network, addressPrefix: cfg.addressPrefix, genesis: genesisSpec(ch) } } : {}),
        });
        console.log(JSON.stringify({ result: 'ok', ...report }, null, 2));
      } finally {
        await pool.end();
      }
    });

  program
    .command('migrate')
    .description('apply pending SQL migrations to a ledger schema (one transaction, under an advisory lock)')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--database-url <url>', 'PostgreSQL URL')
    .option('--schema <name>', 'ledger schema')
    .action(async (opts: { config?: string; databaseUrl?: string; schema?: string }) => {
      const db = databaseUrl(opts);
      const pool = createPool(db.url, 1);
      const client = await pool.connect();
      try {
        const applied = await migrate(client, opts.schema ?? db.schema ?? 'hub');
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is current');
      } finally {
        client.release();
        await pool.end();
      }
    });

  program
    .command('keygen')
    .description('create an ed25519 key; writes the seed to --out (mode 0600) and prints only the public parts')
    .option('--out <file>', 'where to write the seed (hex)')
    .option('--prefix <prefix>', 'address prefix of the network', 'klxd')
    .option('--devnet <name>', 'derive the well-known devnet key of this name instead (never for real funds)')
    .action((opts: { out?: string; prefix: string; devnet?: string }) => {
      const key = opts.devnet ? Ed25519Signer.devnet(opts.devnet) : Ed25519Signer.generate();
      if (opts.out) writeFileSync(opts.out, `${key.exportSeedHex()}\n`, { mode: 0o600, flag: 'wx' });
      console.log(JSON.stringify({ publicKey: toHex(key.publicKey), address: addressFromPublicKey(opts.prefix, key.publicKey), seedFile: opts.out ?? null }));
    });
}
