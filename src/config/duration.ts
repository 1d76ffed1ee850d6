/**
 * A duration as configuration and the CLIs write it: a whole number of seconds, minutes, hours or
 * days (`90s`, `15m`, `24h`, `7d`).
 */
export const DURATION = /^(\d{1,7})(s|m|h|d)$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Seconds in a duration string, or null when it is not one (or is zero). */
export function durationSeconds(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * SECONDS[m[2] as keyof typeof SECONDS];
  return seconds > 0 ? seconds : null;
}

/** A duration in seconds written back the way it would be configured (`86400` → `24h`, `90` → `90s`). */
export function formatDuration(seconds: number): string {
  if (seconds % 86400 === 0 && seconds >= 7 * 86400) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
