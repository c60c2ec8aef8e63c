// Readiness as the orchestrator sees it: the database is connected with its indexes in place, answers a
// ping now, and the process is not shutting down.

export interface ReadinessReport {
  ready: boolean;
  reason?: string;
}

export interface Readiness {
  /**
   * True once connected and the unique indexes exist; data routes answer 503 until then. Stays true
   * while draining: requests still arriving on open connections are served, not failed.
   */
  isDatabaseReady(): boolean;
  isShuttingDown(): boolean;
  markDatabaseReady(): void;
  beginShutdown(): void;
  /** The /readyz answer; pings the database within a bounded time. */
  check(): Promise<ReadinessReport>;
}

export interface ReadinessOptions {
  /** Resolves when the database answers; called by check() only once the database is ready. */
  ping: () => Promise<unknown>;
  pingTimeoutMs: number;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  let databaseReady = false;
  let shuttingDown = false;
  return {
    isDatabaseReady: () => databaseReady,
    isShuttingDown: () => shuttingDown,
    markDatabaseReady: () => {
      databaseReady = true;
    },
    beginShutdown: () => {
      shuttingDown = true;
    },
    async check() {
      if (shuttingDown) return { ready: false, reason: 'shutting down' };
      if (!databaseReady) return { ready: false, reason: 'database not connected yet' };
      const reachable = await withTimeout(options.ping(), options.pingTimeoutMs);
      return reachable ? { ready: true } : { ready: false, reason: 'database unreachable' };
    },
  };
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
