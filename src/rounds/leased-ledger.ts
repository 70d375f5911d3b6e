import type { ResolvedConfig } from '../config/index.js';
import { Ledger, type Lease } from './ledger.js';
import type { LeaseHolder } from './ledger-types.js';

export interface LeasedLedger {
  readonly ledger: Ledger;
  readonly lease: Lease;
  /** Releases the lease and closes the ledger. */
  close(): void;
}

/** Opens the configured ledger and takes its lease (waiting ledger.waitSeconds), as every writing command does. */
export async function openLeasedLedger(
  config: ResolvedConfig,
  options: { readonly signal?: AbortSignal; readonly onTakeover?: (previous: LeaseHolder, why: string) => void; readonly mustExist?: boolean } = {},
): Promise<LeasedLedger> {
  const ledger = Ledger.open(config.ledger.path, { mustExist: options.mustExist ?? false });
  try {
    const lease = await ledger.acquireLease({
      ttlMs: config.ledger.leaseSeconds * 1000,
      waitMs: config.ledger.waitSeconds * 1000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onTakeover ? { onTakeover: options.onTakeover } : {}),
    });
    return {
      ledger,
      lease,
      close: () => {
        lease.release();
        ledger.close();
      },
    };
  } catch (error) {
    ledger.close();
    throw error;
  }
}
