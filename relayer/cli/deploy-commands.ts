/**
 * `klx-bridge deploy evm` / `deploy solana`: creates a chain's bridge (the EVM contracts; the
 * Solana multisig, bridged-KLX mint and nonce account) and writes the deployment record the
 * relayer's config names.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { deployEvmBridge } from '../../adapters/evm/deploy.ts';
import { connectionDeployTarget, deploySolanaBridge } from '../../adapters/solana/deploy.ts';
import { Connection, Keypair } from '@solana/web3.js';
import { NATIVE_MINT } from '@solana/spl-token';
import { ConfigError } from '../ledger/errors.ts';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address (0x + 40 hex)');
const optionsSchema = z.object({
  rpcUrl: z.string().regex(/^https?:\/\//, 'an http(s) RPC URL'),
  processor: address,
  approvers: z.string().transform((s) => s.split(',').map((x) => x.trim())).pipe(z.array(address).min(1)),
  approverQuorum: z.string().regex(/^[0-9]{1,2}$/, 'a number').transform(Number),
  listeners: z.string().transform((s) => s.split(',').map((x) => x.trim())).pipe(z.array(address).min(1)),
  listenerQuorum: z.string().regex(/^[0-9]{1,2}$/, 'a number').transform(Number),
  rotationDelay: z.string().regex(/^[0-9]{1,10}$/, 'seconds').transform(BigInt),
  klx: z.union([z.enum(['erc20', 'bridged', 'none']), address]),
  treasury: address.optional(),
  klxDailyCap: z.string().regex(/^[0-9]{1,78}$/, 'base units').transform(BigInt).optional(),
  nativeDailyCap: z.string().regex(/^[0-9]{1,78}$/, 'base units').transform(BigInt).optional(),
  out: z.string().min(1).optional(),
});

const base58Key = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'a base58 public key');
const commaList = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));
const solanaOptionsSchema = z.object({
  rpcUrl: z.string().regex(/^https?:\/\//, 'an http(s) RPC URL'),
  processor: base58Key,
  approvers: commaList.pipe(z.array(base58Key).min(1).max(10)),
  approverQuorum: z.string().regex(/^[0-9]{1,2}$/, 'a number').transform(Number),
  feePayer: base58Key,
  klxDecimals: z.union([z.literal('none').transform(() => null), z.string().regex(/^[0-7]$/, '0 to 7, or none').transform(Number)]),
  custodyMints: commaList.transform((list) => list.map((x) => (x === 'sol' ? NATIVE_MINT.toBase58() : x))).pipe(z.array(base58Key)),
  cluster: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'a cluster id').optional(),
  out: z.string().min(1).optional(),
});

/** A Solana fee-paying key: a hex ed25519 seed, or a solana-keygen JSON file (64 numbers). Never echoed. */
function solanaDeployerKey(file: string | undefined): Keypair {
  const text = (file ? readFileOrFail(file) : process.env.KLX_SOLANA_DEPLOYER_KEY)?.trim();
  if (!text) throw new ConfigError('no deployer key: pass --payer-key-file or set KLX_SOLANA_DEPLOYER_KEY');
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Keypair.fromSeed(Buffer.from(text, 'hex'));
  try {
    const bytes = JSON.parse(text) as unknown;
    if (Array.isArray(bytes) && bytes.length === 64 && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Keypair.fromSecretKey(Uint8Array.from(bytes as number[]));
  } catch {
    /* refused below */
  }
  throw new ConfigError('the Solana deployer key must be a 64-hex-character seed or a solana-keygen JSON keypair');
}

function deployerKey(file: string | undefined): Hex {
  const text = file ? readFileOrFail(file) : process.env.KLX_DEPLOYER_KEY;
  if (!text) throw new ConfigError('no deployer key: pass --deployer-key-file or set KLX_DEPLOYER_KEY');
  const key = text.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new ConfigError('the deployer key must be 0x followed by 64 hex characters');
  return key as Hex;
}

/** Writes the deployment record the relayer's config names, and prints it. */
function writeDeployment(out: string, deployment: object): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(deployment, null, 2)}\n`);
  console.log(JSON.stringify({ written: out, ...deployment }));
}

function readFileOrFail(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`cannot read ${file}`);
  }
}

export function registerDeployCommands(program: Command): void {
  const deploy = program.command('deploy').description('deploy a bridge on an external chain');
  deploy
    .command('evm')
    .description('deploy KlxBridge (and the ERC20 or bridged KLX) on an EVM chain; writes the deployment record')
    .requiredOption('--rpc-url <url>', 'JSON-RPC endpoint of the chain')
    .option('--deployer-key-file <file>', 'file holding the fee-paying deployer key (0x + 64 hex); default $KLX_DEPLOYER_KEY')
    .requiredOption('--processor <address>', 'processor key address')
    .requiredOption('--approvers <addresses>', 'comma-separated approver addresses')
    .requiredOption('--approver-quorum <m>', 'approver quorum M (> K/2)')
    .requiredOption('--listeners <addresses>', 'comma-separated listener addresses (secp256k1 keys for rotations)')
    .requiredOption('--listener-quorum <l>', 'listener quorum L (> N/2)')
    .option('--rotation-delay <seconds>', 'timelock of validator-set rotations', '86400')
    .option('--klx <kind>', 'erc20 (deploy the devnet ERC20 KLX), bridged (mintable by the bridge), none, or an existing token address', 'none')
    .option('--treasury <address>', 'receives the ERC20 KLX supply (with --klx erc20)')
    .option('--klx-daily-cap <baseUnits>', 'outflow cap of KLX: at most this at once, refilling this much per 24 h (worst case twice in 24 h, see ADR 0007); default none')
    .option('--native-daily-cap <baseUnits>', 'outflow cap of the native coin, same semantics; default none')
    .option('--out <file>', 'where to write the deployment record (default: deployments/evm-<chainId>.json)')
    .action(async (raw: Record<string, string | undefined>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) throw new ConfigError(`deploy evm: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}`);
      const o = parsed.data;
      if (o.klx === 'erc20' && !o.treasury) throw new ConfigError('deploy evm: --klx erc20 needs --treasury');
      const deployment = await deployEvmBridge({
        rpcUrl: o.rpcUrl,
        deployerKey: deployerKey(raw.deployerKeyFile),
        validators: {
          processor: o.processor as Address,
          approvers: o.approvers as Address[],
          approverQuorum: o.approverQuorum,
          listeners: o.listeners as Address[],
          listenerQuorum: o.listenerQuorum,
        },
        rotationDelaySeconds: o.rotationDelay,
        klx: o.klx as 'erc20' | 'bridged' | 'none' | Address,
        ...(o.treasury ? { treasury: o.treasury as Address } : {}),
        ...(o.klxDailyCap !== undefined ? { klxDailyCap: o.klxDailyCap } : {}),
        ...(o.nativeDailyCap !== undefined ? { nativeDailyCap: o.nativeDailyCap } : {}),
      });
      writeDeployment(o.out ?? `deployments/evm-${deployment.chainId}.json`, deployment);
    });

  deploy
    .command('solana')
    .description('create the Solana bridge: the SPL multisig (processor + approvers, threshold M + 1), the bridged-KLX mint and the durable nonce account; writes the deployment record')
    .requiredOption('--rpc-url <url>', 'JSON-RPC endpoint of the cluster')
    .option('--payer-key-file <file>', 'file holding the key that pays rent (hex seed or solana-keygen JSON); default $KLX_SOLANA_DEPLOYER_KEY')
    .requiredOption('--processor <pubkey>', "the processor's Solana key (also the nonce authority)")
    .requiredOption('--approvers <pubkeys>', "comma-separated approvers' Solana keys (at most 10)")
    .requiredOption('--approver-quorum <m>', 'approver quorum M (> K/2); the multisig threshold is M + 1')
    .requiredOption('--fee-payer <pubkey>', "the submitter's fee payer (pays release fees and recipients' token-account rent)")
    .option('--klx-decimals <n>', 'decimals of the bridged-KLX mint (0 to 7), or none', '7')
    .option('--custody-mints <mints>', 'comma-separated mints whose custody account to create now ("sol": wrapped SOL)', 'sol')
    .option('--cluster <id>', "the cluster's id in the record (default: its genesis hash)")
    .option('--out <file>', 'where to write the deployment record (default: deployments/solana-<cluster>.json)')
    .action(async (raw: Record<string, string | undefined>) => {
      const parsed = solanaOptionsSchema.safeParse(raw);
      if (!parsed.success) throw new ConfigError(`deploy solana: ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('; ')}`);
      const o = parsed.data;
      const payer = solanaDeployerKey(raw.payerKeyFile);
      const cluster = o.cluster ?? (await new Connection(o.rpcUrl, 'confirmed').getGenesisHash());
      const deployment = await deploySolanaBridge(connectionDeployTarget(o.rpcUrl, payer), {
        cluster,
        processor: o.processor,
        approvers: o.approvers,
        approverQuorum: o.approverQuorum,
        feePayer: o.feePayer,
        klxDecimals: o.klxDecimals,
        custodyMints: o.custodyMints,
      });
      writeDeployment(o.out ?? `deployments/solana-${cluster.slice(0, 12)}.json`, deployment);
    });
}
