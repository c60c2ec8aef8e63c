// Container entry point: `node apps/users-api/src/main.ts`. Fails fast listing every bad setting (exit 2),
// runs until SIGTERM/SIGINT, then drains and exits 0 within SHUTDOWN_TIMEOUT_MS.
import { ConfigError, loadConfig } from './config.ts';
import { SHUTDOWN_HARD_EXIT_MARGIN_MS } from './contract.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`users-api: ${error.message}\n`);
    const logger = createLogger({ level: 'info' });
    logger.fatal({ problems: error.problems }, 'invalid configuration; fix these settings and restart');
    process.exitCode = 2;
    return;
  }
  const logger = createLogger({ level: config.LOG_LEVEL });
  const server = await startServer(config, { logger });

  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received');
    // A last resort if closing hangs somewhere we did not bound: exit non-zero, visibly.
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_HARD_EXIT_MARGIN_MS).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  process.stderr.write(`users-api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
