/**
 * `klx-bridge override propose|confirm|consent|list`: the hard override of a stuck action
 * (issue 5). Approvers propose and confirm with their hub key (KLX_HUB_KEY); the processor
 * confirms last by itself once M approvers have; the withdrawal's owner consents to another
 * recipient with its key file. Every step is a signed hub transaction, shown by `audit`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../ledger/errors.ts';
import { Ed25519Signer } from '../ledger/keys.ts';
import { addressFromPublicKey } from '../ledger/address.ts';
import { signTx } from '../ledger/transaction.ts';
import type { TxBodies } from '../ledger/tx-bodies.ts';
import { ChannelClient } from '../node/client.ts';
import { bridgeChannel } from '../bridge/bridge-setup.ts';
import { loadSecret } from '../config/config.ts';
import { configFrom } from './shared.ts';

/** Operator votes use a lane of their own, away from the role processes' lanes. */
const OVERRIDE_LANE = 1001;

interface Opts {
  config?: string;
}

async function submit<T extends 'override-propose' | 'override-confirm' | 'override-consent'>(opts: Opts, key: Ed25519Signer, type: T, body: TxBodies[T]): Promise<void> {
  const cfg = configFrom(opts);
  const { channel } = bridgeChannel(cfg);
  const client = new ChannelClient(cfg.hubUrl ?? `http://${cfg.api.host}:${cfg.api.port}`, channel.name);
  const sender = addressFromPublicKey(cfg.addressPrefix, key.publicKey);
  const tx = signTx({ network: cfg.network, channel: channel.name, type, sender, lane: OVERRIDE_LANE, nonce: await client.nextNonce(sender, OVERRIDE_LANE), body }, key);
  const receipt = await client.submit(tx);
  const override = await client.bridgeRecord<Record<string, unknown>>('override', body.chain, body.actionId);
  console.log(JSON.stringify({ submitted: type, height: receipt.height, override }, null, 2));
}

const actionId = (text: string) => {
  if (!/^[1-9][0-9]{0,19}$/.test(text)) throw new ConfigError('<actionId> must be a positive integer');
  return text;
};
const hubKey = () => Ed25519Signer.fromSeedHex(loadSecret('KLX_HUB_KEY', "the approver's hub key (hex ed25519 seed)"));

export function registerOverrideCommands(program: Command): void {
  const override = program.command('override').description('hard override of a stuck action: propose, confirm, consent, list');
  override
    .command('propose <chain> <actionId>')
    .description('approver: propose to skip action n (a signed no-op at n) or replace it (same asset, at most the original amount) (key: KLX_HUB_KEY)')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .option('--skip', 'skip the action')
    .option('--replace', 'replace the action (with --asset, --amount, --recipient)')
    .option('--asset <id>', 'hub asset of the replacement (must be the original asset)')
    .option('--amount <baseUnits>', 'hub amount of the replacement (at most the original)')
    .option('--recipient <address>', 'chain recipient of the replacement (another recipient needs the owner to run `override consent`)')
    .action(async (chain: string, id: string, o: Opts & { skip?: boolean; replace?: boolean; asset?: string; amount?: string; recipient?: string }) => {
      if (Boolean(o.skip) === Boolean(o.replace)) throw new ConfigError('give exactly one of --skip and --replace');
      if (o.skip) return submit(o, hubKey(), 'override-propose', { chain, actionId: actionId(id), kind: 'skip' });
      if (!o.asset || !o.amount || !o.recipient) throw new ConfigError('--replace needs --asset, --amount and --recipient');
      return submit(o, hubKey(), 'override-propose', { chain, actionId: actionId(id), kind: 'replace', asset: o.asset, amount: o.amount, recipient: o.recipient });
    });
  override
    .command('confirm <chain> <actionId>')
    .description('approver: confirm the proposed override of action n (key: KLX_HUB_KEY); the processor confirms last by itself')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .action((chain: string, id: string, o: Opts) => submit(o, hubKey(), 'override-confirm', { chain, actionId: actionId(id) }));
  override
    .command('consent <chain> <actionId>')
    .description("withdrawal owner: let a replacement of action n pay another recipient")
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .requiredOption('--key-file <file>', "file holding the owner's seed (hex)")
    .requiredOption('--recipient <address>', 'the chain recipient the replacement may pay')
    .action((chain: string, id: string, o: Opts & { keyFile: string; recipient: string }) => {
      let key: Ed25519Signer;
      try {
        key = Ed25519Signer.fromSeedHex(readFileSync(o.keyFile, 'utf8'));
      } catch {
        throw new ConfigError(`cannot read an ed25519 seed from ${o.keyFile}`);
      }
      return submit(o, key, 'override-consent', { chain, actionId: actionId(id), recipient: o.recipient });
    });
  override
    .command('list <chain>')
    .description('the overrides of a chain: proposed, applied (the processor confirmed) or moot (the action executed first)')
    .option('-c, --config <file>', 'config file (default: $KLX_CONFIG)')
    .action(async (chain: string, o: Opts) => {
      const cfg = configFrom(o);
      const { channel } = bridgeChannel(cfg);
      const r = await fetch(`${cfg.hubUrl ?? `http://${cfg.api.host}:${cfg.api.port}`}/v1/channels/${channel.name}/bridge/override/${chain}`);
      if (!r.ok) throw new ConfigError(`the hub answered ${r.status} for the overrides of ${chain}`);
      console.log(JSON.stringify(await r.json(), null, 2));
    });
}
