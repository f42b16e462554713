/** Token holders' subcommands: check an address, read balances, send a transfer. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addressFromPublicKey, decodeAddress } from '../ledger/address.ts';
import { parseAmount } from '../ledger/amount.ts';
import { ConfigError } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { signTx } from '../ledger/transaction.ts';
import { ChannelClient } from '../node/client.ts';

const DEFAULT_NODE = process.env.KLX_NODE_URL ?? 'http://127.0.0.1:8645';

export function registerUserCommands(program: Command): void {
  program
    .command('address <address>')
    .description('check a hub address (format and checksum) before sending to it')
    .option('--prefix <prefix>', 'address prefix of the network', 'klxd')
    .action((address: string, opts: { prefix: string }) => {
      const d = decodeAddress(address, opts.prefix);
      console.log(JSON.stringify({ valid: true, kind: d.version === 0 ? 'account' : 'module' }));
    });

  program
    .command('balance <address>')
    .description('balances of an address on a channel')
    .option('--node <url>', 'channel node API', DEFAULT_NODE)
    .option('--channel <name>', 'channel', 'bridge')
    .action(async (address: string, opts: { node: string; channel: string }) => {
      console.log(JSON.stringify(await new ChannelClient(opts.node, opts.channel).balances(address)));
    });

  program
    .command('transfer')
    .description('sign and send a transfer; prints the receipt once the block is durable')
    .requiredOption('--key-file <file>', 'file holding the sender seed (hex)')
    .requiredOption('--to <address>', 'recipient hub address')
    .requiredOption('--asset <id>', 'asset id, e.g. KLX')
    .requiredOption('--amount <baseUnits>', 'amount in base units (integer)')
    .option('--network <name>', 'network', 'devnet')
    .option('--prefix <prefix>', 'address prefix', 'klxd')
    .option('--channel <name>', 'channel', 'bridge')
    .option('--lane <n>', 'nonce lane', '0')
    .option('--memo <text>', 'memo', '')
    .option('--node <url>', 'channel node API', DEFAULT_NODE)
    .action(async (o: { keyFile: string; to: string; asset: string; amount: string; network: string; prefix: string; channel: string; lane: string; memo: string; node: string }) => {
      let key: Ed25519Signer;
      try {
        key = Ed25519Signer.fromSeedHex(readFileSync(o.keyFile, 'utf8'));
      } catch {
        throw new ConfigError(`cannot read an ed25519 seed from ${o.keyFile}`);
      }
      decodeAddress(o.to, o.prefix);
      const amount = parseAmount(o.amount);
      if (!/^[0-9]{1,5}$/.test(o.lane) || Number(o.lane) > 65535) throw new ConfigError('--lane must be an integer from 0 to 65535');
      const lane = Number(o.lane);
      const sender = addressFromPublicKey(o.prefix, key.publicKey);
      const client = new ChannelClient(o.node, o.channel);
      const nonce = await client.nextNonce(sender, lane);
      const tx = signTx({ network: o.network, channel: o.channel, type: 'transfer', sender, lane, nonce, body: { to: o.to, asset: o.asset, amount, memo: o.memo } }, key);
      console.log(JSON.stringify(await client.submit(tx)));
    });
}
