/** Compiled contract artifacts (ABI and bytecode) from Hardhat's build output. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';
import { ConfigError } from '../../relayer/ledger/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ContractArtifact {
  abi: Abi;
  bytecode: Hex;
}

export function loadArtifact(contract: 'KlxBridge' | 'KlxToken' | 'KlxBridgedToken'): ContractArtifact {
  const path = join(ROOT, 'artifacts', 'contracts', 'evm', `${contract}.sol`, `${contract}.json`);
  try {
    const a = JSON.parse(readFileSync(path, 'utf8')) as { abi: Abi; bytecode: Hex };
    return { abi: a.abi, bytecode: a.bytecode };
  } catch {
    throw new ConfigError(`no compiled ${contract}: run \`npm run build:contracts\` first (looked in ${path})`);
  }
}
