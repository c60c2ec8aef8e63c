// Readiness as the orchestrator sees it: the database is connected with its indexes in place, answers
// now, and the process is not shutting down.

export interface ReadinessReport {
  ready: boolean;
  reason?: string;
}

export interface Readiness {
  /**
   * True once connected (and prepared once); read routes answer 503 until then. Stays true while
   * draining: requests still arriving on open connections are served, not failed.
   */
  isDatabaseReady(): boolean;
  /**
   * True while the unique indexes are known to exist on the server we talk to. False from every
   * (re)connection, failover or detected loss until they are ensured again; writes answer 503 meanwhile.
   */
  isSchemaReady(): boolean;
  isShuttingDown(): boolean;
  markDatabaseReady(): void;
  markSchemaReady(ready: boolean): void;
  beginShutdown(): void;
  /** The /readyz answer; probes the database within a bounded time. */
  check(): Promise<ReadinessReport>;
}

export interface ReadinessOptions {
  /**
   * Asks the database whether it is usable, within the bound: resolves to undefined when it is, or to
   * the reason it is not (e.g. indexes missing). Called by check() only once the database is ready.
   */
  probe: () => Promise<string | undefined>;
  probeTimeoutMs: number;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  let databaseReady = false;
  let schemaReady = false;
  let shuttingDown = false;
  return {
    isDatabaseReady: () => databaseReady,
    isSchemaReady: () => databaseReady && schemaReady,
    isShuttingDown: () => shuttingDown,
    markDatabaseReady: () => {
      databaseReady = true;
    },
    markSchemaReady: (ready) => {
      schemaReady = ready;
    },
    beginShutdown: () => {
      shuttingDown = true;
    },
    async check() {
      if (shuttingDown) return { ready: false, reason: 'shutting down' };
      if (!databaseReady) return { ready: false, reason: 'database not connected yet' };
      const problem = await withTimeout(options.probe(), options.probeTimeoutMs);
      if (problem !== undefined) return { ready: false, reason: problem };
      if (!schemaReady) return { ready: false, reason: 'unique indexes are being ensured' };
      return { ready: true };
    },
  };
}

async function withTimeout(work: Promise<string | undefined>, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('database unreachable'), ms);
  });
  try {
    return await Promise.race([work.catch(() => 'database unreachable'), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
