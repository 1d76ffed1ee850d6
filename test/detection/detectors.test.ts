import { describe, expect, it } from 'vitest';
import { classifyField } from '../../src/detection/classify.ts';
import { isEmail, isLandline, isMobile } from '../../src/detection/contact.ts';
import { isBankAccount, isBpjs, isPassport } from '../../src/detection/documents.ts';
import { hintFor } from '../../src/detection/hints.ts';
import { isKk, isNik } from '../../src/detection/identity-numbers.ts';
import { isNip } from '../../src/detection/nip.ts';
import { PROVINCE_CODES } from '../../src/detection/regions.ts';
import { findSpans, redactSpans } from '../../src/detection/spans.ts';
import { isChildBirthDate } from '../../src/detection/specific.ts';
import { isLegacyNpwp, isNpwp16 } from '../../src/detection/tax.ts';

const NOW = new Date('2026-12-03T12:00:00Z');
const DOMAIN_PROVINCES = [
  '11',
  '12',
  '13',
  '14',
  '15',
  '16',
  '17',
  '18',
  '19',
  '21',
  '31',
  '32',
  '33',
  '34',
  '35',
  '36',
  '51',
  '52',
  '53',
  '61',
  '62',
  '63',
  '64',
  '65',
  '71',
  '72',
  '73',
  '74',
  '75',
  '76',
  '81',
  '82',
  '91',
  '92',
  '93',
  '94',
  '95',
  '96',
];

describe('NIK', () => {
  it('knows exactly the 38 province codes of domain.md', () => {
    expect([...PROVINCE_CODES].sort()).toEqual(DOMAIN_PROVINCES);
    for (let p = 0; p <= 99; p++) {
      const code = String(p).padStart(2, '0');
      expect(isNik(`${code}01051203900001`), code).toBe(DOMAIN_PROVINCES.includes(code));
    }
  });

  it.each([
    ['3201051203900001', true, 'man born 12 Mar 1990'],
    ['3201055203900001', true, 'woman born 12 Mar 1990 (day + 40)'],
    ['3201054102900001', true, 'woman born 1 Feb'],
    ['3201057103900001', true, 'woman born 31 Mar (71)'],
    ['3201057203900001', false, 'day 72'],
    ['3201053203900001', false, 'day 32'],
    ['3201054003900001', false, 'day 40'],
    ['3201050003900001', false, 'day 00'],
    ['3201052902960001', true, '29 Feb 96 (leap)'],
    ['3201052902000001', true, '29 Feb 00 (2000 is leap)'],
    ['3201056902960001', true, 'woman, 29 Feb 96'],
    ['3201052902970001', false, '29 Feb 97'],
    ['3201053002960001', false, '30 Feb'],
    ['3201053104900001', false, '31 Apr'],
    ['3201051213900001', false, 'month 13'],
    ['3201051200900001', false, 'month 00'],
    ['3201051203900000', false, 'serial 0000'],
    ['3200051203900001', false, 'regency 00'],
    ['3270051203900001', false, 'regency 70'],
    ['3271051203900001', true, 'city 71'],
    ['3299051203900001', true, 'city 99'],
    ['3269051203900001', true, 'regency 69'],
    ['3201001203900001', false, 'district 00'],
    ['1001051203900001', false, 'province 10'],
    ['9701051203900001', false, 'province 97'],
    ['3201.0512.0390.0001', true, 'written with dots'],
    ['3201 0512 0390 0001', true, 'written with spaces'],
    ['320105120390001', false, '15 digits'],
    ['32010512039000011', false, '17 digits'],
    ['32010512039O0001', false, 'a letter O'],
  ])('%s → %s (%s)', (value, expected) => {
    expect(isNik(value)).toBe(expected);
  });
});

describe('KK', () => {
  it.each([
    ['3201051203150003', true, 'issued 12 Mar 2015'],
    ['3201055203150003', false, 'day 52 (a NIK date, not an issue date)'],
    ['3201052902160003', true, '29 Feb 2016'],
    ['3201052902170003', false, '29 Feb 2017'],
    ['8801051203150003', false, 'province 88'],
    ['3201051203150000', false, 'serial 0000'],
  ])('%s → %s (%s)', (value, expected) => {
    expect(isKk(value)).toBe(expected);
  });
});

describe('NPWP', () => {
  it.each([
    ['01.234.567.8-901.000', false, 'Luhn fails'],
    ['09.254.294.3-407.000', true, 'legacy, Luhn passes'],
    ['09.254.294.3407.000', false, 'punctuation wrong'],
    ['092542943407000', false, 'bare digits without a hint'],
    ['00.000.000.0-000.000', false, 'all zero'],
  ])('%s → %s (%s)', (value, expected) => {
    expect(isLegacyNpwp(value, false)).toBe(expected);
  });
  it('bare and 16-digit forms only count with an NPWP hint', () => {
    expect(isLegacyNpwp('092542943407000', true)).toBe(true);
    expect(isNpwp16('0092542943407000')).toBe(true);
    expect(isNpwp16('0012345678901000')).toBe(false);
    expect(isNpwp16('3201051203900001')).toBe(true); // the NIK of a resident
    expect(
      classifyField({ name: 'npwp', type: 'string', values: ['092542943407000', '0092542943407000'] }, NOW).category,
    ).toBe('npwp');
  });
});

describe('NIP', () => {
  it.each([
    ['198503122010011001', true, 'born 12 Mar 1985, appointed Jan 2010, man'],
    ['198503122010012001', true, 'woman'],
    ['198503122010013001', false, 'sex digit 3'],
    ['198502302010011001', false, '30 Feb 1985'],
    ['198402292010011001', true, '29 Feb 1984'],
    ['198502292010011001', false, '29 Feb 1985'],
    ['198503122010131001', false, 'appointment month 13'],
    ['198503122010011000', false, 'serial 000'],
    ['198503121995011001', false, 'appointed at 9'],
    ['198503122027011001', false, 'appointed in the future'],
    ['193003122010011001', false, 'born 1930'],
    ['1985 0312 2010 01 1 001', true, 'written with spaces'],
    ['19850312201001100', false, '17 digits'],
  ])('%s → %s (%s)', (value, expected) => {
    expect(isNip(value, NOW)).toBe(expected);
  });
});

describe('phone', () => {
  it.each([
    ['081234567890', true],
    ['+6281234567890', true],
    ['6281234567890', true],
    ['+62 812-3456-7890', true],
    ['0812 3456 789', true],
    ['085712345678', true],
    ['089912345678', true],
    ['0810123456789', false], // prefix 810
    ['0820123456789', false], // prefix 820
    ['08123456', false], // too short
    ['08123456789012', false], // 14 digits
    ['+6581234567', false], // Singapore
    ['3201051203900001', false],
  ])('mobile %s → %s', (value, expected) => {
    expect(isMobile(value)).toBe(expected);
  });
  it.each([
    ['(021) 5551234', false, true],
    ['021-55512345', false, true],
    ['0274 512345', false, true],
    ['+62 21 5551234', false, true],
    ['02155512345', false, false],
    ['02155512345', true, true],
    ['0912345678', true, false], // area 9x is no landline
  ])('landline %s (hint %s) → %s', (value, hinted, expected) => {
    expect(isLandline(value, hinted)).toBe(expected);
  });
});

describe('email, passport, BPJS, bank accounts', () => {
  it.each([
    ['siti.rahma@example.go.id', true],
    ['a@b.co', true],
    ['user@localhost', false],
    ['no at sign', false],
    ['two..dots@x.id', false],
    ['@example.com', false],
  ])('email %s → %s', (value, expected) => expect(isEmail(value)).toBe(expected));
  it('passport, BPJS and bank accounts need their column name', () => {
    expect(isPassport('A1234567')).toBe(true);
    expect(isPassport('12345678')).toBe(false);
    expect(isBpjs('0001234567890')).toBe(true);
    expect(isBpjs('000123456789')).toBe(false);
    expect(isBankAccount('1234567890')).toBe(true);
    expect(isBankAccount('12345')).toBe(false);
    expect(classifyField({ name: 'kode_berkas', type: 'string', values: ['A1234567', 'B7654321'] }, NOW).category).toBe(
      'none',
    );
    expect(classifyField({ name: 'no_paspor', type: 'string', values: ['A1234567', 'B7654321'] }, NOW).category).toBe(
      'passport',
    );
    expect(
      classifyField({ name: 'nomor_urut', type: 'string', values: ['0001234567890', '0009876543210'] }, NOW).category,
    ).toBe('none');
    expect(
      classifyField({ name: 'no_bpjs', type: 'string', values: ['0001234567890', '0009876543210'] }, NOW).category,
    ).toBe('bpjs');
    expect(classifyField({ name: 'kode', type: 'string', values: ['1234567890', '9876543210'] }, NOW).category).toBe(
      'none',
    );
    const bank = classifyField({ name: 'no_rekening', type: 'string', values: ['1234567890', '9876543210'] }, NOW);
    expect(bank.category).toBe('financial');
    expect(bank.evidence).toMatchObject({ detector: 'bank_account', hint: 'rekening' });
  });
});

describe('column-name hints', () => {
  it.each([
    ['nama', 'name'],
    ['nama_lengkap', 'name'],
    ['nama_pelapor', 'name'],
    ['nama_terdakwa', 'name'],
    ['status_terdakwa', 'criminal_record'],
    ['full_name', 'name'],
    ['nama_partai', null],
    ['nama_kecamatan', null],
    ['alamat', 'address'],
    ['tempat_lahir', 'other_general'],
    ['tgl_lahir', 'birthdate'],
    ['date_of_birth', 'birthdate'],
    ['jenis_kelamin', 'other_general'],
    ['agama', 'other_general'],
    ['riwayat_penyakit', 'health'],
    ['gaji', 'financial'],
    ['sidik_jari', 'biometric'],
    ['no_hp', 'phone'],
    ['hpp', null],
    ['keterangan', null],
  ])('%s → %s', (name, category) => {
    expect(hintFor(name)?.category ?? null).toBe(category);
  });
});

describe('field verdicts', () => {
  const f = (name: string, values: unknown[], type = 'string') => classifyField({ name, type, values }, NOW);

  it('finds identifiers by value, whatever the column is called', () => {
    expect(f('kolom_a', ['3201051203900001', '3201055203900002', '3578014501880003'])).toMatchObject({
      category: 'nik',
      evidence: { detector: 'nik', matched: 3, sampled: 3 },
    });
    expect(f('kolom_b', ['081234567890', '+6285712345678']).category).toBe('phone');
    expect(f('kolom_c', ['a@b.id', 'siti@example.com']).category).toBe('email');
    expect(f('kolom_d', ['198503122010011001', '199001012015032002']).category).toBe('nip');
    expect(f('kolom_e', ['09.254.294.3-407.000']).category).toBe('npwp');
  });

  it('does not take near misses for identifiers', () => {
    // Bank-account-like 16-digit numbers, impossible dates, unknown provinces.
    expect(f('nomor', ['1234567890123456', '9901051203900001', '3201053002960001', '3201051203900000']).category).toBe(
      'none',
    );
    expect(f('nomor', ['123456789012345678', '198502302010011001']).category).toBe('none');
    expect(f('nomor', ['0810123456789', '12345678']).category).toBe('none');
  });

  it('a KK hint makes 16-digit region numbers a KK, unless women’s dates show they are NIKs', () => {
    expect(f('no_kk', ['3201051203150003', '3201051203150004']).category).toBe('kk');
    expect(f('no_kk', ['3201055203900001']).category).toBe('nik');
  });

  it('names, addresses, sex, religion from hints and value shape', () => {
    expect(f('nama_lengkap', ['Siti Rahmawati', 'Budi Santoso'])).toMatchObject({
      category: 'name',
      evidence: { hint: 'nama' },
    });
    expect(f('alamat', ['Jl. Merdeka No. 5, RT 001/RW 002', 'Desa Sukamaju, Kec. Cibeber']).category).toBe('address');
    expect(f('jk', ['L', 'P', 'P']).category).toBe('other_general');
    expect(f('x', ['Islam', 'Kristen', 'Hindu']).evidence.detector).toBe('religion');
    expect(f('nama_partai', ['Partai A', 'Partai B']).category).toBe('none');
  });

  it('specific data: health (ICD-10 codes, diagnoses), criminal status, children, finances, biometrics', () => {
    expect(f('kode', ['J45.9', 'E11', 'A09.0']).category).toBe('health');
    expect(f('riwayat_penyakit', ['hipertensi', 'diabetes melitus']).category).toBe('health');
    expect(f('status', ['tersangka', 'terdakwa', 'terpidana']).category).toBe('criminal_record');
    expect(f('tgl_lahir', ['1990-03-12', '2012-07-01'], 'date')).toMatchObject({ category: 'child' });
    expect(f('tgl_lahir', ['1990-03-12', '1985-07-01'], 'date').category).toBe('birthdate');
    expect(f('gaji', [5000000, 7250000], 'integer').category).toBe('financial');
    expect(f('sidik_jari', ['fp_0001.bin']).category).toBe('biometric');
  });

  it('children: under 18 at scan time, to the day', () => {
    expect(isChildBirthDate('2008-12-04', NOW)).toBe(true); // 17 until tomorrow
    expect(isChildBirthDate('2008-12-03', NOW)).toBe(false); // 18 today
    expect(isChildBirthDate('04-12-2008', NOW)).toBe(true);
  });

  it('identifiers inside free text are spans', () => {
    const text = 'Pelapor (NIK 3201051203900001) bisa dihubungi di 0812-3456-7890 atau siti@example.com.';
    expect(findSpans(text).map((s) => s.category)).toEqual(['nik', 'phone', 'email']);
    expect(redactSpans(text)).toBe('Pelapor (NIK [nik]) bisa dihubungi di [phone] atau [email].');
    expect(findSpans('Nomor rekening 1234567890123456 dan tanggal 12-03-2024')).toEqual([]);
    const v = f('uraian', [text, 'Tidak ada keterangan lebih lanjut dari pengawas.', 'Dilaporkan ke Bawaslu kota.']);
    expect(v).toMatchObject({
      category: 'nik',
      spans: true,
      evidence: { detector: 'text_spans', matched: 1, sampled: 3 },
    });
  });

  it('an empty sample says none with no confidence', () => {
    expect(f('nik', [null, '', undefined])).toMatchObject({ category: 'none', confidence: 0 });
  });
});

describe('masks for what detection finds', () => {
  it('NIP and BPJS numbers keep their first 4 and last 2 digits; text keeps everything but its identifiers', async () => {
    const { applyMask, partial } = await import('../../src/records/masks.ts');
    expect(partial('198503122010011001', 'nip')).toBe('1985************01');
    expect(partial('0001234567890', 'bpjs')).toBe('0001*******90');
    const ctx = { personalData: 'none', type: 'string' as const, pseudonymKey: () => '' };
    expect(applyMask('redact_spans', 'Hubungi 081234567890 atau a@b.id', ctx)).toBe('Hubungi [phone] atau [email]');
    expect(applyMask('redact_spans', null, ctx)).toBeNull();
  });
});

describe('long values', () => {
  // A value may be up to 1 MiB of text: every detector must cost linear time. Before the span
  // pattern was bounded, a 50 000-character run of letters took seconds (quadratic).
  it('adversarial 200 000-character values are classified and redacted in linear time', () => {
    const n = 200_000;
    const values = [
      'a'.repeat(n),
      '1'.repeat(n),
      'a.'.repeat(n / 2),
      'x@' + 'b'.repeat(n),
      '+62 8' + '1 '.repeat(n / 2),
      'a@'.repeat(n / 2),
      '1.'.repeat(n / 2) + 'x',
      '0' + '-'.repeat(n),
    ];
    const started = performance.now();
    for (const v of values) {
      for (const name of [
        'uraian',
        'nama',
        'alamat',
        'email',
        'no_hp',
        'npwp',
        'no_paspor',
        'no_rekening',
        'tgl_lahir',
      ])
        classifyField({ name, type: 'string', values: [v] }, NOW);
      redactSpans(v);
    }
    // About 1 s on the development machine under load; quadratic patterns took minutes.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
