/** The deployment record of an EVM bridge: written by `klx-bridge deploy evm`, read by the relayer. */
import { z } from 'zod';
import type { Address } from 'viem';
import { readDeploymentFile } from '../deployment-file.ts';

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address') as z.ZodType<Address>;

export const evmDeploymentSchema = z.strictObject({
  family: z.literal('evm'),
  chainId: z.number().int().positive(),
  bridge: address,
  klxToken: address.nullable(),
  klxKind: z.enum(['erc20', 'bridged', 'none']),
  deployer: address,
  deployedAtBlock: z.string().regex(/^[0-9]+$/),
  rotationDelaySeconds: z.string().regex(/^[0-9]+$/),
  validators: z.strictObject({
    processor: address,
    approvers: z.array(address).min(1),
    approverQuorum: z.number().int().positive(),
    listeners: z.array(address).min(1),
    listenerQuorum: z.number().int().positive(),
  }),
});

export type EvmDeployment = z.infer<typeof evmDeploymentSchema>;

export function readEvmDeployment(path: string): EvmDeployment {
  return readDeploymentFile(path, evmDeploymentSchema, 'EVM');
}
