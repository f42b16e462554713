/** Reading a chain's deployment record: JSON checked against the family's schema; every problem is a ConfigError naming the file and the fields. */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../relayer/ledger/errors.ts';

export function readDeploymentFile<S extends z.ZodType>(path: string, schema: S, family: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ConfigError(`cannot read the ${family} deployment file ${path}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${family} deployment file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
