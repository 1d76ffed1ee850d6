/**
 * Realistic violation reports (laporan pelanggaran) as a SIGAPLAPOR-like system would hold them:
 * reporter identity (name, NIK, phone, address, birth date), region, category, dates, status and
 * free text. Deterministic for a given index.
 */
export const DATASET_ID = 'bench-reports';

export const FIELDS = [
  { name: 'report_no', type: 'string' },
  { name: 'received_at', type: 'datetime' },
  { name: 'incident_date', type: 'date' },
  { name: 'region', type: 'string' },
  { name: 'category', type: 'string' },
  { name: 'reporter_name', type: 'string', personalData: 'name' },
  { name: 'reporter_nik', type: 'string', personalData: 'nik' },
  { name: 'reporter_phone', type: 'string', personalData: 'phone' },
  { name: 'reporter_address', type: 'string', personalData: 'address' },
  { name: 'reporter_birthdate', type: 'date', personalData: 'birthdate' },
  { name: 'reported_party', type: 'string' },
  { name: 'reported_party_status', type: 'string', personalData: 'criminal_record' },
  { name: 'summary', type: 'string' },
  { name: 'status', type: 'string' },
] as const;

const FIRST = ['Siti', 'Budi', 'Dewi', 'Agus', 'Rina', 'Ahmad', 'Putri', 'Joko', 'Nur', 'Wahyu', 'Lestari', 'Eko'];
const LAST = [
  'Rahmawati',
  'Santoso',
  'Hidayat',
  'Pratama',
  'Wijaya',
  'Kusuma',
  'Saputra',
  'Nugroho',
  'Susanti',
  'Siregar',
];
const CATEGORIES = [
  'politik uang',
  'netralitas ASN',
  'kampanye di luar jadwal',
  'alat peraga kampanye',
  'pelanggaran kode etik',
  'penggelembungan suara',
];
const STATUS = ['diterima', 'dikaji', 'diregistrasi', 'ditindaklanjuti', 'dihentikan'];
const PARTY_STATUS = ['terlapor', 'terlapor', 'terlapor', 'tersangka', 'terdakwa'];
const STREETS = ['Jl. Merdeka', 'Jl. Sudirman', 'Jl. Pahlawan', 'Jl. Diponegoro', 'Jl. Asia Afrika'];
const REGENCIES = ['32.01', '32.02', '32.03', '32.04', '32.73', '32.74'];
const CITY = ['Kab. Bogor', 'Kab. Sukabumi', 'Kab. Cianjur', 'Kab. Bandung', 'Kota Bandung', 'Kota Cirebon'];

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function report(i: number): Record<string, string> {
  const r = REGENCIES[i % REGENCIES.length]!;
  const day = (i % 28) + 1;
  const month = ((i >> 5) % 12) + 1;
  const female = i % 2 === 0;
  const bday = ((i * 7) % 28) + 1;
  const bmonth = ((i * 3) % 12) + 1;
  const byear = 1960 + (i % 45);
  const nik = `${r.replace('.', '')}${pad((i % 30) + 1, 2)}${pad(bday + (female ? 40 : 0), 2)}${pad(bmonth, 2)}${pad(byear % 100, 2)}${pad((i % 9999) + 1, 4)}`;
  return {
    report_no: `${pad(i, 7)}/LP/PL/Kab/${r}/2024`,
    received_at: `2024-${pad(month, 2)}-${pad(day, 2)}T${pad(i % 24, 2)}:${pad(i % 60, 2)}:00+07:00`,
    incident_date: `2024-${pad(month, 2)}-${pad(Math.max(day - 2, 1), 2)}`,
    region: r,
    category: CATEGORIES[i % CATEGORIES.length]!,
    reporter_name: `${FIRST[i % FIRST.length]} ${LAST[(i >> 3) % LAST.length]}`,
    reporter_nik: nik,
    reporter_phone: `08${['12', '13', '21', '52', '57', '77', '95'][i % 7]}${pad((i * 7919) % 100000000, 8)}`,
    reporter_address: `${STREETS[i % STREETS.length]} No. ${(i % 200) + 1}, RT 00${(i % 9) + 1}/RW 00${(i % 7) + 1}, ${CITY[i % CITY.length]}`,
    reporter_birthdate: `${byear}-${pad(bmonth, 2)}-${pad(bday, 2)}`,
    reported_party: `Calon legislatif nomor urut ${(i % 12) + 1} dapil Jawa Barat ${(i % 11) + 1}`,
    reported_party_status: PARTY_STATUS[i % PARTY_STATUS.length]!,
    summary: `Pelapor melihat pembagian uang dan sembako kepada warga di ${CITY[i % CITY.length]} menjelang hari pemungutan suara; bukti foto dan saksi ${(i % 4) + 1} orang.`,
    status: STATUS[i % STATUS.length]!,
    _unit: r,
  };
}
