/**
 * A labelled corpus of realistic Indonesian election datasets (violation reports, election
 * officials, voter lists, case files), generated from a seed: each column carries the category a
 * correct detector gives it, and each value whether it is a valid identifier of its kind. Near
 * misses are deliberate: 16-digit numbers that are not NIKs (bank cards, invalid province codes,
 * impossible dates, serial 0000), 18-digit numbers that are not NIPs, phone-like numbers with
 * prefixes no operator uses.
 */
import { luhn } from '../../src/detection/tax.ts';

export type Rng = () => number;

/** mulberry32: small, fast, reproducible. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const digits = (r: Rng, n: number) => Array.from({ length: n }, () => int(r, 0, 9)).join('');

const PROVINCES = [
  11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65, 71, 72, 73, 74, 75,
  76, 81, 82, 91, 92, 93, 94, 95, 96,
];
const NOT_PROVINCES = [10, 20, 22, 30, 37, 40, 50, 54, 60, 66, 70, 77, 80, 83, 90, 97, 98, 99];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (m: number, y: number) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;

function date(r: Rng, y0: number, y1: number): [number, number, number] {
  const y = int(r, y0, y1);
  const m = int(r, 1, 12);
  return [y, m, int(r, 1, daysIn(m, y))];
}
const region = (r: Rng) =>
  `${pick(r, PROVINCES)}${pad(r() < 0.8 ? int(r, 1, 69) : int(r, 71, 99), 2)}${pad(int(r, 1, 45), 2)}`;

export function nik(r: Rng, born: [number, number, number] = date(r, 1945, 2007)): string {
  const [y, m, d] = born;
  const day = r() < 0.5 ? d + 40 : d;
  return `${region(r)}${pad(day, 2)}${pad(m, 2)}${pad(y % 100, 2)}${pad(int(r, 1, 9999), 4)}`;
}

export function kk(r: Rng): string {
  const [y, m, d] = date(r, 1990, 2024);
  return `${region(r)}${pad(d, 2)}${pad(m, 2)}${pad(y % 100, 2)}${pad(int(r, 1, 9999), 4)}`;
}

/** 16 digits that are not NIKs: every kind of near miss. */
export function notNik(r: Rng): string {
  const base = nik(r);
  switch (int(r, 0, 5)) {
    case 0: // a province code that does not exist
      return `${pick(r, NOT_PROVINCES)}${base.slice(2)}`;
    case 1: {
      // an impossible date: 30/31 Feb, 31 Apr, 29 Feb of a year not divisible by 4, month 13, day 32–40 or 72+
      const bad = pick(r, [
        '3002',
        '3102',
        '3104',
        '3106',
        '3109',
        '3111',
        '2902',
        '1513',
        '0500',
        '3512',
        '7301',
        '8005',
      ]);
      const yy = bad === '2902' ? pad(pick(r, [1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 97, 98, 99]), 2) : base.slice(10, 12);
      return `${base.slice(0, 6)}${bad}${yy}${base.slice(12)}`;
    }
    case 2: // serial 0000
      return `${base.slice(0, 12)}0000`;
    case 3: // regency 00 or 70
      return `${base.slice(0, 2)}${pick(r, ['00', '70'])}${base.slice(4)}`;
    case 4: {
      // a payment card number (Luhn-valid), starting 4 or 5 as cards do
      for (;;) {
        const s = `${pick(r, ['4', '5'])}${digits(r, 14)}`;
        for (let c = 0; c <= 9; c++) if (luhn(s + c)) return s + c;
      }
    }
    default: // district 00
      return `${base.slice(0, 4)}00${base.slice(6)}`;
  }
}

export function nip(r: Rng): string {
  const [by, bm, bd] = date(r, 1960, 1998);
  const ay = int(r, Math.max(by + 19, 1985), 2024);
  return `${by}${pad(bm, 2)}${pad(bd, 2)}${ay}${pad(int(r, 1, 12), 2)}${int(r, 1, 2)}${pad(int(r, 1, 999), 3)}`;
}

/** 18 digits that are not NIPs: impossible dates, appointment before birth, sex digit 0/3–9, serial 000. */
export function notNip(r: Rng): string {
  const s = nip(r);
  switch (int(r, 0, 4)) {
    case 0:
      return `${s.slice(0, 4)}0230${s.slice(8)}`; // 30 Feb
    case 1:
      return `${s.slice(0, 8)}${Number(s.slice(0, 4)) - 5}${s.slice(12)}`; // appointed before birth
    case 2:
      return `${s.slice(0, 14)}${pick(r, ['0', '3', '5', '9'])}${s.slice(15)}`;
    case 3:
      return `${s.slice(0, 15)}000`;
    default:
      return `${s.slice(0, 12)}13${s.slice(14)}`; // appointment month 13
  }
}

const MOBILE = [
  '811',
  '812',
  '813',
  '821',
  '822',
  '823',
  '831',
  '838',
  '852',
  '853',
  '856',
  '857',
  '858',
  '877',
  '878',
  '881',
  '895',
  '896',
];
export function phone(r: Rng): string {
  const n = `8${pick(r, MOBILE).slice(1)}${digits(r, int(r, 6, 9))}`;
  switch (int(r, 0, 3)) {
    case 0:
      return `0${n}`;
    case 1:
      return `+62${n}`;
    case 2:
      return `62${n}`;
    default:
      return `0${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)}`;
  }
}
/** Phone-like numbers no operator uses (prefix 80x/84x/86x/89[0-4]) or of the wrong length. */
export function notPhone(r: Rng): string {
  if (r() < 0.3) return `08${pick(r, ['12', '57'])}${digits(r, int(r, 2, 4))}`; // too short
  return `08${pick(r, ['0', '4', '6'])}${digits(r, int(r, 8, 10))}`;
}

const FIRST = [
  'Siti',
  'Budi',
  'Ahmad',
  'Dewi',
  'Agus',
  'Sri',
  'Rina',
  'Joko',
  'Putri',
  'Made',
  'Nyoman',
  'Yohanes',
  'Maria',
  'Fitri',
  'Hendra',
  'Wahyu',
  'Ayu',
  'Rudi',
  'Nur',
  'Andi',
];
const LAST = [
  'Rahmawati',
  'Santoso',
  'Hidayat',
  'Lestari',
  'Saputra',
  'Wijaya',
  'Siregar',
  'Nasution',
  'Pratama',
  'Kurniawan',
  'Sembiring',
  'Harahap',
  'Putra',
  'Susanti',
  'Manurung',
];
export const name = (r: Rng) =>
  `${pick(r, FIRST)} ${pick(r, LAST)}${r() < 0.2 ? `, S.${pick(r, ['H', 'E', 'Pd'])}.` : ''}`;
const domain = (r: Rng) => pick(r, ['gmail.com', 'yahoo.co.id', 'bawaslu.go.id', 'mail.com', 'outlook.com']);
export const email = (r: Rng) =>
  `${pick(r, FIRST).toLowerCase()}.${pick(r, LAST).toLowerCase()}${int(r, 1, 999)}@${domain(r)}`;
const CITIES = [
  'Bandung',
  'Bogor',
  'Semarang',
  'Medan',
  'Makassar',
  'Denpasar',
  'Kupang',
  'Jayapura',
  'Padang',
  'Palembang',
];
export const address = (r: Rng) =>
  `Jl. ${pick(r, ['Merdeka', 'Sudirman', 'Diponegoro', 'Ahmad Yani'])} No. ${int(r, 1, 200)}, RT ${pad(int(r, 1, 20), 3)}/RW ${pad(int(r, 1, 15), 3)}, Kel. ${pick(r, ['Sukajadi', 'Cibeunying', 'Tegalrejo'])}, ${pick(r, CITIES)} ${int(r, 10000, 99999)}`;
export const iso = ([y, m, d]: [number, number, number]) => `${y}-${pad(m, 2)}-${pad(d, 2)}`;

function npwp(r: Rng): string {
  for (;;) {
    const s = digits(r, 8);
    for (let c = 0; c <= 9; c++) {
      if (luhn(s + c)) {
        const all = `${s}${c}${digits(r, 6)}`;
        return `${all.slice(0, 2)}.${all.slice(2, 5)}.${all.slice(5, 8)}.${all[8]}-${all.slice(9, 12)}.${all.slice(12)}`;
      }
    }
  }
}

const ICD = ['J45.9', 'E11', 'I10', 'A09.0', 'K29.7', 'F32.1', 'B20', 'N18.5', 'C50.9', 'G40.9'];
const FREE_TEXT = [
  'Terlapor diduga membagikan uang kepada pemilih di sekitar TPS.',
  'Pengawas kelurahan menemukan alat peraga kampanye di tempat ibadah.',
  'Laporan diteruskan ke sentra gakkumdu untuk kajian awal.',
  'Saksi menyatakan kejadian berlangsung pukul 14.00 WIB pada 12-02-2024.',
  'Bukti berupa foto dan video telah diterima oleh pengawas kecamatan.',
];

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  /** The category a correct detector gives the column (`none` for no personal data). */
  expected: string;
  /** The identifier kind every value of the column validly is (value-level precision and recall), if any. */
  valid?: 'nik' | 'kk' | 'nip' | 'phone' | 'email' | 'npwp';
  gen: (r: Rng, row: number) => string | number | null;
}

export interface Dataset {
  id: string;
  columns: Column[];
}

const NOW = new Date();
const childDate = (r: Rng): [number, number, number] => date(r, NOW.getUTCFullYear() - 17, NOW.getUTCFullYear() - 17);

export const DATASETS: Dataset[] = [
  {
    id: 'laporan-pelanggaran',
    columns: [
      { name: 'no_laporan', type: 'string', expected: 'none', gen: (_, i) => `${pad(i, 3)}/LP/PL/Kab/13.01/II/2024` },
      { name: 'tanggal_laporan', type: 'date', expected: 'none', gen: (r) => iso(date(r, 2023, 2024)) },
      { name: 'nama_pelapor', type: 'string', expected: 'name', gen: name },
      { name: 'nik_pelapor', type: 'string', expected: 'nik', valid: 'nik', gen: (r) => nik(r) },
      { name: 'no_hp_pelapor', type: 'string', expected: 'phone', valid: 'phone', gen: phone },
      { name: 'email_pelapor', type: 'string', expected: 'email', valid: 'email', gen: email },
      { name: 'alamat_pelapor', type: 'string', expected: 'address', gen: address },
      {
        name: 'status_terlapor',
        type: 'string',
        expected: 'criminal_record',
        gen: (r) => pick(r, ['terlapor', 'tersangka', 'terdakwa', 'terpidana']),
      },
      {
        name: 'uraian',
        type: 'string',
        expected: 'phone',
        gen: (r) => (r() < 0.15 ? `Pelapor dapat dihubungi di ${phone(r)} untuk klarifikasi.` : pick(r, FREE_TEXT)),
      },
      { name: 'nomor_kartu_bukti', type: 'string', expected: 'none', gen: notNik },
    ],
  },
  {
    id: 'petugas-pemilu',
    columns: [
      { name: 'nama', type: 'string', expected: 'name', gen: name },
      { name: 'nip', type: 'string', expected: 'nip', valid: 'nip', gen: nip },
      { name: 'nik', type: 'string', expected: 'nik', valid: 'nik', gen: (r) => nik(r, date(r, 1960, 2000)) },
      {
        name: 'jenis_kelamin',
        type: 'string',
        expected: 'other_general',
        gen: (r) => pick(r, ['L', 'P', 'Laki-laki', 'Perempuan']),
      },
      { name: 'tempat_lahir', type: 'string', expected: 'other_general', gen: (r) => pick(r, CITIES) },
      { name: 'tgl_lahir', type: 'date', expected: 'birthdate', gen: (r) => iso(date(r, 1960, 2000)) },
      {
        name: 'agama',
        type: 'string',
        expected: 'other_general',
        gen: (r) => pick(r, ['Islam', 'Kristen', 'Katolik', 'Hindu', 'Buddha', 'Konghucu']),
      },
      { name: 'no_telp', type: 'string', expected: 'phone', valid: 'phone', gen: phone },
      { name: 'npwp', type: 'string', expected: 'npwp', valid: 'npwp', gen: npwp },
      { name: 'gaji', type: 'integer', expected: 'financial', gen: (r) => int(r, 30, 120) * 100_000 },
      { name: 'no_rekening', type: 'string', expected: 'financial', gen: (r) => digits(r, pick(r, [10, 13, 15])) },
      {
        name: 'jabatan',
        type: 'string',
        expected: 'none',
        gen: (r) => pick(r, ['Ketua KPPS', 'Anggota PPK', 'Pengawas TPS', 'Sekretaris PPS']),
      },
      { name: 'kode_tps', type: 'string', expected: 'none', gen: (r) => `TPS ${pad(int(r, 1, 60), 3)}` },
      { name: 'nomor_register', type: 'string', expected: 'none', gen: notNip },
      { name: 'nomor_seri_formulir', type: 'string', expected: 'none', gen: notPhone },
    ],
  },
  {
    id: 'daftar-pemilih',
    columns: [
      { name: 'nkk', type: 'string', expected: 'kk', valid: 'kk', gen: kk },
      { name: 'nik', type: 'string', expected: 'nik', valid: 'nik', gen: (r) => nik(r, date(r, 1940, 2007)) },
      { name: 'nama', type: 'string', expected: 'name', gen: name },
      {
        name: 'tgl_lahir',
        type: 'date',
        expected: 'child',
        gen: (r) => iso(r() < 0.04 ? childDate(r) : date(r, 1940, 2006)),
      },
      { name: 'jk', type: 'string', expected: 'other_general', gen: (r) => pick(r, ['L', 'P']) },
      { name: 'alamat', type: 'string', expected: 'address', gen: address },
      { name: 'rt', type: 'string', expected: 'none', gen: (r) => pad(int(r, 1, 20), 3) },
      { name: 'rw', type: 'string', expected: 'none', gen: (r) => pad(int(r, 1, 15), 3) },
      { name: 'tps', type: 'integer', expected: 'none', gen: (r) => int(r, 1, 60) },
      {
        name: 'disabilitas',
        type: 'string',
        expected: 'health',
        gen: (r) => (r() < 0.5 ? pick(r, ['tunanetra', 'tunarungu', 'tunadaksa', 'disabilitas mental']) : null),
      },
    ],
  },
  {
    id: 'berkas-perkara',
    columns: [
      {
        name: 'nomor_perkara',
        type: 'string',
        expected: 'none',
        gen: (r) => `${int(r, 1, 400)}/Pid.Sus/2024/PN ${pick(r, CITIES)}`,
      },
      { name: 'nama_terdakwa', type: 'string', expected: 'name', gen: name },
      {
        name: 'status',
        type: 'string',
        expected: 'criminal_record',
        gen: (r) => pick(r, ['tersangka', 'terdakwa', 'terpidana']),
      },
      { name: 'riwayat_penyakit', type: 'string', expected: 'health', gen: (r) => pick(r, ICD) },
      {
        name: 'no_paspor',
        type: 'string',
        expected: 'passport',
        gen: (r) => `${pick(r, ['A', 'B', 'C', 'X'])}${digits(r, 7)}`,
      },
      { name: 'no_bpjs', type: 'string', expected: 'bpjs', gen: (r) => `000${digits(r, 10)}` },
      { name: 'putusan', type: 'string', expected: 'none', gen: (r) => pick(r, FREE_TEXT) },
      { name: 'nilai_kerugian', type: 'integer', expected: 'none', gen: (r) => int(r, 1, 500) * 1_000_000 },
      { name: 'kode_wilayah_lama', type: 'string', expected: 'none', gen: notNik },
      { name: 'id_transaksi', type: 'string', expected: 'none', gen: notNik },
      { name: 'kode_formulir', type: 'string', expected: 'none', gen: notNip },
    ],
  },
];

/** The rows of a dataset: column → values, from a seed. */
export function generate(d: Dataset, rows: number, seed: number): Map<Column, (string | number | null)[]> {
  const r = rng(seed);
  return new Map(d.columns.map((c) => [c, Array.from({ length: rows }, (_, i) => c.gen(r, i))]));
}
