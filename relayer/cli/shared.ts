/** Helpers shared by CLI commands: config loading and graceful shutdown. */
import { ConfigError } from '../ledger/errors.ts';
import { loadConfigFile, type BridgeConfig } from '../config/config.ts';

export function configFrom(opts: { config?: string }): BridgeConfig {
  const path = opts.config ?? process.env.KLX_CONFIG;
  if (!path) throw new ConfigError('no config: pass --config <file> or set KLX_CONFIG');
  return loadConfigFile(path);
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stop()
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        console.error(`klx-bridge: error while stopping after ${signal}: ${(e as Error).message}`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}
