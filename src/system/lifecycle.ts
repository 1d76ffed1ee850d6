/** Shutdown hooks, run in reverse order of registration (last opened, first closed). */
export class Lifecycle {
  readonly #hooks: { name: string; run: () => Promise<void> | void }[] = [];
  #closing: Promise<void> | undefined;

  onShutdown(name: string, run: () => Promise<void> | void): void {
    this.#hooks.push({ name, run });
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** Runs every hook once, even if one fails; failures are reported to `onFailure`. */
  shutdown(onFailure: (name: string, error: unknown) => void = () => {}): Promise<void> {
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
