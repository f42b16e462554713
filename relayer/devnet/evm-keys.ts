/** Devnet EVM keys: anvil's well-known accounts and keys derived from public labels. Never for anything of value. */
import { keccak256, toHex, type Hex } from 'viem';

/** anvil's first default account: deployer and ERC20 KLX treasury on the devnet. */
export const ANVIL_KEY_0: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** anvil's second default account: the devnet submitter's fee payer. */
export const DEVNET_PAYER_KEY: Hex = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
/** anvil's third default account: the devnet demo's EVM user. */
export const DEVNET_EVM_USER_KEY: Hex = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';

export const devnetEvmKey = (label: string): Hex => keccak256(toHex(`klx-devnet-evm-key:${label}`));
