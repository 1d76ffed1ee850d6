/**
 * Shutdown hooks, run in reverse order of registration (last opened, first closed), and reload
 * hooks (configuration re-read without a restart: the Node entry runs them on SIGHUP).
 */
export class Lifecycle {
  readonly #hooks: { name: string; run: () => Promise<void> | void }[] = [];
  readonly #reloads: { name: string; run: () => Promise<unknown> | unknown }[] = [];
  #closing: Promise<void> | undefined;
  readonly #stopping = new AbortController();

  /** Aborted when shutdown begins: long-lived responses (the audit stream) end on it, so requests can drain. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Shutdown begins: ends long-lived responses now (before the server waits for in-flight requests). */
  drain(): void {
    this.#stopping.abort();
  }

  onReload(name: string, run: () => Promise<unknown> | unknown): void {
    this.#reloads.push({ name, run });
  }

  /** Runs every reload hook once, even if one fails; failures are reported to `onFailure`. */
  async reload(onFailure: (name: string, error: unknown) => void = () => {}): Promise<void> {
    for (const hook of this.#reloads) {
      try {
        await hook.run();
      } catch (error) {
        onFailure(hook.name, error);
      }
    }
  }

  onShutdown(name: string, run: () => Promise<void> | void): void {
    this.#hooks.push({ name, run });
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** Runs every hook once, even if one fails; failures are reported to `onFailure`. */
  shutdown(onFailure: (name: string, error: unknown) => void = () => {}): Promise<void> {
    this.drain();
    this.#closing ??= (async () => {
      for (const hook of [...this.#hooks].reverse()) {
        try {
          await hook.run();
        } catch (error) {
          onFailure(hook.name, error);
        }
      }
    })();
    return this.#closing;
  }
}
