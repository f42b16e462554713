/** `klx-bridge override`: malformed commands exit 2 with the reason and submit nothing (the rules' own refusals are in test/ledger/override-rules.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { user } from '../helpers/channel.ts';
import { testConfig } from '../helpers/node.ts';
import { runCli, writeTempJson } from '../helpers/processes.ts';

describe('klx-bridge override', () => {
  const approver = user('oc-approver');
  const config = writeTempJson('cfg.json', testConfig('postgres://postgres@127.0.0.1:1/none', [approver], ['bridge'], {
    bridge: { channel: 'bridge', listeners: [approver.address], listenerQuorum: 1, approvers: [approver.address], approverQuorum: 1 },
    hubUrl: 'http://127.0.0.1:1',
  }));
  const env = { KLX_HUB_KEY: approver.key.exportSeedHex() };
  const cases: [string[], RegExp][] = [
    [['propose', 'polygon', '1'], /exactly one of --skip and --replace/],
    [['propose', 'polygon', '1', '--skip', '--replace'], /exactly one of --skip and --replace/],
    [['propose', 'polygon', '0', '--skip'], /<actionId> must be a positive integer/],
    [['propose', 'polygon', '1', '--replace', '--asset', 'KLX'], /--replace needs --asset, --amount and --recipient/],
    [['confirm', 'polygon', '1x'], /<actionId> must be a positive integer/],
  ];
  for (const [args, reason] of cases) {
    it(`override ${args.join(' ')} → exit 2, ${reason.source}`, async () => {
      const r = await runCli(['override', ...args, '--config', config], env);
      assert.equal(r.code, 2, r.output);
      assert.match(r.output, reason);
      assert.ok(!r.output.includes(env.KLX_HUB_KEY), 'the key is never printed');
    });
  }
});
