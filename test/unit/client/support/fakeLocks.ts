/**
 * Web Locks as far as tidings uses them (`request(name, callback)`, exclusive), which
 * happy-dom lacks. Records the names asked for.
 */
export class FakeLockManager {
  readonly requested: string[] = [];
  private tails = new Map<string, Promise<unknown>>();

  request<T>(name: string, callback: (lock: { name: string }) => Promise<T>): Promise<T> {
    this.requested.push(name);
    const tail = this.tails.get(name) ?? Promise.resolve();
    const result = tail.then(() => callback({ name }));
    this.tails.set(
      name,
      result.catch(() => undefined),
    );
    return result;
  }
}
