/**
 * Withdrawals as token holders and exchanges run them: `withdraw` (prints the action it became,
 * or its place in the pending-funds FIFO), `pending <chain> <asset>` (the queue: position and
 * amount ahead of each waiting transfer) and `pending-cancel` (the owner takes a waiting
 * transfer back; refunded on the hub at once).
 */
import type { Command } from 'commander';
import { ConfigError } from '../ledger/errors.ts';
import type { ActionRecord, PendingTransfer } from '../ledger/bridge-state.ts';
import { ChannelClient } from '../node/client.ts';
import { pendingQueue } from '../bridge/pending-queue.ts';
import { DEFAULT_NODE, signAndSubmit, withHubOptions, type HubOptions } from './hub-sender.ts';

const positiveInteger = (text: string, what: string) => {
  if (!/^[1-9][0-9]{0,37}$/.test(text)) throw new ConfigError(`${what} must be a positive integer`);
  return text;
};

export function registerWithdrawCommands(program: Command): void {
  withHubOptions(
    program
      .command('withdraw')
      .description('withdraw a hub asset to an external chain; prints the action it became, or its position in the pending-funds queue')
      .requiredOption('--key-file <file>', 'file holding the sender seed (hex)')
      .requiredOption('--chain <name>', 'destination chain, e.g. ethereum')
      .requiredOption('--asset <id>', 'hub asset id, e.g. KLX')
      .requiredOption('--amount <baseUnits>', 'hub amount in base units (integer)')
      .requiredOption('--recipient <address>', 'address on the destination chain'),
  ).action(async (o: HubOptions & { keyFile: string; chain: string; asset: string; amount: string; recipient: string }) => {
    const amount = positiveInteger(o.amount, '--amount');
    const { receipt, client } = await signAndSubmit(o, 'withdraw', { chain: o.chain, asset: o.asset, amount, recipient: o.recipient });
    const pending = await client.bridgeRecords<PendingTransfer>('pending', o.chain);
    const waiting = pending.find((p) => p.withdrawTx === receipt.txId);
    if (waiting) {
      const queued = pendingQueue(pending, o.asset).find((q) => q.seq === waiting.seq);
      console.log(JSON.stringify({ txId: receipt.txId, height: receipt.height, status: waiting.status, seq: waiting.seq, actionId: waiting.actionId, position: queued?.position ?? null, amountAhead: queued?.amountAhead ?? null }));
      return;
    }
    const action = (await client.bridgeRecords<ActionRecord>('action', o.chain)).find((a) => a.withdrawTx === receipt.txId);
    console.log(JSON.stringify({ txId: receipt.txId, height: receipt.height, status: 'action', actionId: action?.actionId ?? null }));
  });

  program
    .command('pending <chain> <asset>')
    .description('the pending-funds queue of (chain, asset): waiting transfers in arrival order, with position and amount ahead')
    .option('--owner <address>', 'only the transfers of this hub address')
    .option('--channel <name>', 'channel', 'bridge')
    .option('--node <url>', 'channel node API', DEFAULT_NODE)
    .action(async (chain: string, asset: string, o: { owner?: string; channel: string; node: string }) => {
      const queue = pendingQueue(await new ChannelClient(o.node, o.channel).bridgeRecords<PendingTransfer>('pending', chain), asset);
      const waitingAmount = queue.reduce((s, q) => s + BigInt(q.hubAmount), 0n);
      const transfers = o.owner ? queue.filter((q) => q.owner === o.owner) : queue;
      console.log(JSON.stringify({ chain, asset, waiting: queue.length, waitingAmount: waitingAmount.toString(), transfers }, null, 2));
    });

  withHubOptions(
    program
      .command('pending-cancel <chain> <asset> <seq>')
      .description('cancel your transfer still waiting in the pending-funds queue; refunded on the hub at once')
      .requiredOption('--key-file <file>', "file holding the owner's seed (hex)"),
  ).action(async (chain: string, asset: string, seq: string, o: HubOptions & { keyFile: string }) => {
    const { receipt, sender, client } = await signAndSubmit(o, 'withdraw-cancel', { chain, asset, seq: positiveInteger(seq, '<seq>') });
    const balance = (await client.balances(sender)).balances[asset] ?? '0';
    console.log(JSON.stringify({ cancelled: seq, height: receipt.height, balance }));
  });
}
