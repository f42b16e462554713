// Hardhat 3 configuration for the EVM contracts (contracts/evm). The compiler is the
// `solc` npm package's wasm build, pinned exactly in package.json, so compilation never
// downloads anything (docs: /work/shared/TOOLCHAIN.md, "EVM"). Hardhat does not check
// that the file matches `version`: bump both together.
import { createRequire } from 'node:module';
import { defineConfig } from 'hardhat/config';
import hardhatViem from '@nomicfoundation/hardhat-viem';
import hardhatNodeTestRunner from '@nomicfoundation/hardhat-node-test-runner';

const require = createRequire(import.meta.url);

export const SOLC_VERSION = '0.8.28';

export default defineConfig({
  plugins: [hardhatViem, hardhatNodeTestRunner],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve('solc/soljson.js'),
    settings: {
      optimizer: { enabled: true, runs: 200 },
    },
  },
  paths: {
    sources: 'contracts/evm',
    tests: { nodejs: 'test/contracts' },
    artifacts: 'artifacts',
    cache: 'cache',
  },
});
