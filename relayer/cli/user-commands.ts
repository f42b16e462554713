/** Token holders' subcommands: check an address, read balances, send a transfer. */
import type { Command } from 'commander';
import { decodeAddress } from '../ledger/address.ts';
import { parseAmount } from '../ledger/amount.ts';
import { ChannelClient } from '../node/client.ts';
import { DEFAULT_NODE, signAndSubmit, withHubOptions, type HubOptions } from './hub-sender.ts';

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

  withHubOptions(
    program
      .command('transfer')
      .description('sign and send a transfer; prints the receipt once the block is durable')
      .requiredOption('--key-file <file>', 'file holding the sender seed (hex)')
      .requiredOption('--to <address>', 'recipient hub address')
      .requiredOption('--asset <id>', 'asset id, e.g. KLX')
      .requiredOption('--amount <baseUnits>', 'amount in base units (integer)')
      .option('--memo <text>', 'memo', ''),
  ).action(async (o: HubOptions & { keyFile: string; to: string; asset: string; amount: string; memo: string }) => {
    decodeAddress(o.to, o.prefix);
    const amount = parseAmount(o.amount);
    console.log(JSON.stringify((await signAndSubmit(o, 'transfer', { to: o.to, asset: o.asset, amount, memo: o.memo })).receipt));
  });
}
