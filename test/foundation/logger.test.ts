import { describe, expect, it } from 'vitest';
import { CENSOR, createLogger, type LogLevel } from '../../src/system/logger.ts';

function capture(level: LogLevel) {
  const lines: string[] = [];
  return { logger: createLogger(level, (l) => lines.push(l)), lines };
}

describe('the logger', () => {
  it('writes one JSON line per event: time, level as text, msg, then the fields', () => {
    const { logger, lines } = capture('debug');
    logger.info('stopped');
    logger.error('request failed', { requestId: 'r-1', error: new TypeError('boom') });
    expect(lines[0]).toMatch(/^\{"time":"\d{4}-\d\d-\d\dT[\d:.]+Z","level":"info","msg":"stopped"\}$/);
    const failed = JSON.parse(lines[1]!);
    expect(Object.keys(failed)).toEqual(['time', 'level', 'msg', 'requestId', 'error']);
    expect(failed).toMatchObject({
      level: 'error',
      requestId: 'r-1',
      error: { name: 'TypeError', message: 'boom', stack: expect.stringContaining('boom') },
    });
  });

  it('honours LOG_LEVEL: below the level nothing is written, silent writes nothing', () => {
    const warn = capture('warn');
    warn.logger.debug('d');
    warn.logger.info('i');
    warn.logger.warn('w');
    warn.logger.error('e');
    expect(warn.lines.map((l) => JSON.parse(l).msg)).toEqual(['w', 'e']);
    const silent = capture('silent');
    silent.logger.error('e');
    expect(silent.lines).toEqual([]);
  });

  it('never writes credentials or record content, at any depth, in any letter case', () => {
    const { logger, lines } = capture('debug');
    const nik = '3204055103920003';
    const secret = 'Bearer eyJhbGciOiJIUzI1NiJ9.secret-part';
    const driverError = Object.assign(new Error('insert failed'), { parameters: [nik], query: 'insert …' });
    logger.warn('odd request', {
      requestId: 'r-2',
      headers: { Authorization: secret, Cookie: `session=${secret}`, accept: 'text/csv' },
      token: secret,
      input: [{ record: { reporter_nik: nik } }, { rows: [[nik]] }, { values: { nik } }],
      check: { resource: { type: 'Dataset', attributes: { reporter_nik: nik } } },
      error: driverError,
    });
    const line = lines[0]!;
    expect(line).not.toContain(nik);
    expect(line).not.toContain('secret-part');
    const parsed = JSON.parse(line);
    expect(parsed.headers).toEqual({ Authorization: CENSOR, Cookie: CENSOR, accept: 'text/csv' });
    expect(parsed.input).toEqual([{ record: CENSOR }, { rows: CENSOR }, { values: CENSOR }]);
    expect(parsed.check.resource).toEqual({ type: 'Dataset', attributes: CENSOR });
    expect(parsed).toMatchObject({ requestId: 'r-2', token: CENSOR, error: { message: 'insert failed' } });
  });
});
