/**
 * Workers that must not score a round (another model, other preprocessing) say so in Redis, beside the
 * queue's own keys, and put the shard back for a worker that can. The coordinator reads the refusals: it
 * tells the user about each refusing worker, and stops the round only once every connected worker has
 * refused it (nobody is left to score the shards).
 */

/** The Redis commands the refusals need (BullMQ's client has them). */
export interface RefusalStore {
  hset(key: string, data: Record<string, string>): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
}

export function refusalsKey(namespace: string, round: string): string {
  return `${namespace}:refusals:${round}`;
}

/** Records that `worker` refused the round `round`, and why. The coordinator deletes the record with the round's jobs. */
export async function recordRefusal(store: RefusalStore, namespace: string, round: string, worker: string, reason: string): Promise<void> {
  await store.hset(refusalsKey(namespace, round), { [worker]: reason });
}

/** Worker name → why it refused the round. */
export async function readRefusals(store: RefusalStore, namespace: string, round: string): Promise<ReadonlyMap<string, string>> {
  return new Map(Object.entries(await store.hgetall(refusalsKey(namespace, round))));
}

/**
 * The names of the workers connected to a queue, from BullMQ's client list: a named worker's connections
 * are named `<prefix>:<queue>:w:<worker name>`.
 */
export function connectedWorkerNames(clients: readonly { readonly rawname?: string }[]): ReadonlySet<string> {
  const names = new Set<string>();
  for (const client of clients) {
    const at = client.rawname?.indexOf(':w:') ?? -1;
    if (at >= 0) names.add(client.rawname!.slice(at + 3));
  }
  return names;
}
