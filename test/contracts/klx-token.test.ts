// KlxToken (fixed-supply ERC20 KLX for devnets) and KlxBridgedToken (mint/burn by the
// bridge only) on an in-process EVM.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getAddress, parseUnits, zeroAddress } from 'viem';
import { createEvmChain, expectCustomError, readAbi, type EvmChain } from './evm-chain.ts';

const TOTAL_SUPPLY = parseUnits('480000000000', 18);

describe('EVM contracts: KLX tokens', () => {
  let chain: EvmChain;

  before(async () => {
    chain = await createEvmChain();
  });
  after(async () => {
    await chain.close();
  });

  describe('KlxToken', () => {
    it('mints the whole fixed supply, with 18 decimals, to the treasury', async () => {
      const [deployer, treasury] = [chain.wallet(0), chain.wallet(1)];
      const token = await chain.viem.deployContract('KlxToken', [treasury.account.address], {
        client: { wallet: deployer },
      });
      assert.equal(await token.read.name(), 'Kalima KLX');
      assert.equal(await token.read.symbol(), 'KLX');
      assert.equal(await token.read.decimals(), 18);
      assert.equal(await token.read.totalSupply(), TOTAL_SUPPLY);
      assert.equal(await token.read.balanceOf([treasury.account.address]), TOTAL_SUPPLY);
      assert.equal(await token.read.balanceOf([deployer.account.address]), 0n);
    });

    it('transfers, emitting Transfer, and refuses to overdraw with ERC20InsufficientBalance', async () => {
      const [treasury, alice, bob] = [chain.wallet(1), chain.wallet(2), chain.wallet(3)];
      const token = await chain.viem.deployContract('KlxToken', [treasury.account.address]);
      const amount = parseUnits('1234.5', 18);

      const hash = await token.write.transfer([alice.account.address, amount], { account: treasury.account });
      const receipt = await chain.publicClient.waitForTransactionReceipt({ hash, timeout: 10_000 });
      assert.equal(receipt.status, 'success');
      const events = await token.getEvents.Transfer({}, { blockHash: receipt.blockHash });
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]?.args, {
        from: getAddress(treasury.account.address),
        to: getAddress(alice.account.address),
        value: amount,
      });
      assert.equal(await token.read.balanceOf([alice.account.address]), amount);
      assert.equal(await token.read.balanceOf([treasury.account.address]), TOTAL_SUPPLY - amount);

      const args = await expectCustomError(
        token.write.transfer([bob.account.address, amount + 1n], { account: alice.account }),
        'ERC20InsufficientBalance',
      );
      assert.deepEqual(args, [getAddress(alice.account.address), amount, amount + 1n]);
      assert.equal(await token.read.balanceOf([alice.account.address]), amount);
      assert.equal(await token.read.balanceOf([bob.account.address]), 0n);
    });

    it('refuses the zero address as treasury', async () => {
      const abi = await readAbi('KlxToken'); // before the deployment starts: its rejection must be awaited at once
      await expectCustomError(chain.viem.deployContract('KlxToken', [zeroAddress]), 'ZeroTreasury', abi);
    });
  });

  describe('KlxBridgedToken', () => {
    it('lets only the bridge mint and burn (OnlyBridge otherwise)', async () => {
      const [bridge, mallory, user] = [chain.wallet(4), chain.wallet(5), chain.wallet(6)];
      const token = await chain.viem.deployContract('KlxBridgedToken', [bridge.account.address]);
      assert.equal(await token.read.bridge(), getAddress(bridge.account.address));
      assert.equal(await token.read.name(), 'Kalima KLX');
      assert.equal(await token.read.symbol(), 'KLX');
      assert.equal(await token.read.decimals(), 18);
      assert.equal(await token.read.totalSupply(), 0n);

      const minted = await expectCustomError(
        token.write.mint([mallory.account.address, 1n], { account: mallory.account }),
        'OnlyBridge',
      );
      assert.deepEqual(minted, [getAddress(mallory.account.address)]);

      const amount = parseUnits('50', 18);
      const mintHash = await token.write.mint([user.account.address, amount], { account: bridge.account });
      assert.equal((await chain.publicClient.waitForTransactionReceipt({ hash: mintHash, timeout: 10_000 })).status, 'success');
      assert.equal(await token.read.balanceOf([user.account.address]), amount);
      assert.equal(await token.read.totalSupply(), amount);

      // Not even the holder may burn through this entry point; only the bridge.
      for (const caller of [mallory, user]) {
        await expectCustomError(
          token.write.burn([user.account.address, 1n], { account: caller.account }),
          'OnlyBridge',
        );
      }
      assert.equal(await token.read.balanceOf([user.account.address]), amount);

      const burnHash = await token.write.burn([user.account.address, amount - 1n], { account: bridge.account });
      assert.equal((await chain.publicClient.waitForTransactionReceipt({ hash: burnHash, timeout: 10_000 })).status, 'success');
      assert.equal(await token.read.balanceOf([user.account.address]), 1n);
      assert.equal(await token.read.totalSupply(), 1n);

      // The bridge cannot burn more than the holder has.
      await expectCustomError(
        token.write.burn([user.account.address, 2n], { account: bridge.account }),
        'ERC20InsufficientBalance',
      );
      assert.equal(await token.read.totalSupply(), 1n);
    });

    it('refuses the zero address as bridge', async () => {
      const abi = await readAbi('KlxBridgedToken'); // before the deployment starts: its rejection must be awaited at once
      await expectCustomError(chain.viem.deployContract('KlxBridgedToken', [zeroAddress]), 'ZeroBridge', abi);
    });
  });

  it('runs on a chosen chain id (e.g. Polygon 137), independent of other chains', async () => {
    const polygon = await createEvmChain({ chainId: 137 });
    try {
      assert.equal(polygon.chainId, 137);
      assert.equal(await polygon.publicClient.getChainId(), 137);
      // Wallet 7 deploys nothing on `chain`, so the same address stays empty there.
      const deployer = polygon.wallet(7);
      const token = await polygon.viem.deployContract('KlxBridgedToken', [deployer.account.address], {
        client: { wallet: deployer },
      });
      assert.notEqual(await polygon.publicClient.getCode({ address: token.address }), undefined);
      assert.equal(await chain.publicClient.getCode({ address: token.address }), undefined);
    } finally {
      await polygon.close();
    }
  });
});
