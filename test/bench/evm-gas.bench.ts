/**
 * `npm run bench` (EVM part): gas of deposit and execute, with 2-of-3 and 5-of-9
 * approvers, next to a plain ERC20 transfer measured in the same run on the same chain.
 */
import { parseEther } from 'viem';
import { createEvmChain } from '../contracts/evm-chain.ts';
import { authorize, deployBridge, key, Kind, mined, NATIVE, validators, type Action } from '../contracts/bridge-fixture.ts';

const chain = await createEvmChain();
try {
  const rows: [string, bigint][] = [];
  for (const [k, m] of [
    [3, 2],
    [9, 5],
  ] as const) {
    const f = await deployBridge(chain, validators(k, m, 3, 2, `gas${k}`));
    await mined(chain, f.klx.write.approve([f.bridge.address, parseEther('1000000')], { account: f.treasury.account }));
    if (k === 3) {
      // Baseline: a plain ERC20 transfer to an address that holds none yet, then to one that does.
      const fresh = await mined(chain, f.klx.write.transfer([key('gas-fresh').address, 1n], { account: f.treasury.account }));
      const warm = await mined(chain, f.klx.write.transfer([key('gas-fresh').address, 1n], { account: f.treasury.account }));
      rows.push(['ERC20 transfer (baseline), new holder', fresh.gasUsed], ['ERC20 transfer (baseline), existing holder', warm.gasUsed]);
      await mined(chain, f.bridge.write.deposit([f.klx.address, parseEther('1'), 'klxd1qp5vy5w84dm0xnce2wg8cvef3458a6s7kwkvqumqvugj348agpklj2m0hvw', key('r').address], { account: f.treasury.account }));
      const dep = await mined(chain, f.bridge.write.deposit([f.klx.address, parseEther('1'), 'klxd1qp5vy5w84dm0xnce2wg8cvef3458a6s7kwkvqumqvugj348agpklj2m0hvw', key('r').address], { account: f.treasury.account }));
      const nat = await mined(chain, f.bridge.write.depositNative(['klxd1qp5vy5w84dm0xnce2wg8cvef3458a6s7kwkvqumqvugj348agpklj2m0hvw', key('r').address], { value: 1n, account: f.treasury.account }));
      rows.push(['deposit ERC20 KLX', dep.gasUsed], ['deposit native coin', nat.gasUsed]);
    } else {
      await mined(chain, f.klx.write.transfer([f.bridge.address, parseEther('100')], { account: f.treasury.account }));
    }
    if (k === 3) await mined(chain, f.klx.write.transfer([f.bridge.address, parseEther('100')], { account: f.treasury.account }));
    const recipient = key('gas-recipient').address;
    const act = (amount: bigint): Action => ({ kind: Kind.Release, token: f.klx.address, recipient, amount });
    // Warm the recipient's balance slot so the figure is comparable to the warm ERC20 baseline.
    const first = await authorize(f.v, f.domain, 1n, act(1n));
    await mined(chain, f.bridge.write.execute([1n, act(1n), first.processorSig, first.approverSigs]));
    const s = await authorize(f.v, f.domain, 2n, act(2n));
    const ex = await mined(chain, f.bridge.write.execute([2n, act(2n), s.processorSig, s.approverSigs]));
    rows.push([`execute release ERC20, ${m}-of-${k} approvers`, ex.gasUsed]);
    const batch = await Promise.all(Array.from({ length: 10 }, (_, i) => authorize(f.v, f.domain, BigInt(3 + i), act(3n))));
    const b = await mined(chain, f.bridge.write.executeBatch([3n, batch.map(() => act(3n)), batch.map((x) => x.processorSig), batch.map((x) => x.approverSigs)]));
    rows.push([`executeBatch of 10, ${m}-of-${k}, per action`, b.gasUsed / 10n]);
    const noop = { kind: Kind.NoOp, token: NATIVE, recipient: NATIVE, amount: 0n };
    const n = await authorize(f.v, f.domain, 13n, noop);
    const nr = await mined(chain, f.bridge.write.execute([13n, noop, n.processorSig, n.approverSigs]));
    rows.push([`execute no-op (override skip), ${m}-of-${k}`, nr.gasUsed]);
  }
  const baseline = rows.find(([name]) => name.includes('existing holder'))?.[1] ?? 1n;
  console.log('\nEVM gas (Hardhat simulated network, same run)             gas   vs ERC20 transfer');
  for (const [name, gas] of rows) console.log(`${name.padEnd(52)} ${gas.toString().padStart(7)}   ${(Number(gas) / Number(baseline)).toFixed(2)}x`);
} finally {
  await chain.close();
}
