/**
 * Readiness checks for /readyz. Each capability registers its own (database, migrations,
 * policies loaded, audit writer healthy); /readyz is ready only when all pass.
 */
export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export type ReadinessCheck = () => Promise<CheckResult> | CheckResult;

export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  async run(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await runOne(check, timeoutMs)] as const),
    );
    return { ready: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
  }
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<CheckResult>((res) => {
        timer = setTimeout(() => res({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
