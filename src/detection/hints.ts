import type { DetectorName } from './verdict.ts';

/**
 * Column-name hints, Indonesian and English (domain.md §6 context words). A hint is matched on
 * whole words of the field name (`no_hp` matches `hp`, `hpp` does not); the first family in this
 * list that matches wins, so the more specific phrases come first (`tempat_lahir` before `lahir`).
 */
export interface Hint {
  detector: DetectorName;
  /** The category the hint alone points to. */
  category: string;
  /** The hint word matched: one of the words below, never anything from the data. */
  word: string;
}

const FAMILIES: readonly { detector: DetectorName; category: string; words: readonly string[] }[] = [
  { detector: 'nik', category: 'nik', words: ['nik', 'ktp', 'nomor_induk_kependudukan', 'national_id'] },
  { detector: 'kk', category: 'kk', words: ['kk', 'nkk', 'kartu_keluarga', 'family_card'] },
  { detector: 'npwp', category: 'npwp', words: ['npwp', 'tax_id'] },
  { detector: 'nip', category: 'nip', words: ['nip', 'nip_baru', 'civil_servant_id'] },
  { detector: 'passport', category: 'passport', words: ['paspor', 'passport'] },
  { detector: 'bpjs', category: 'bpjs', words: ['bpjs', 'jkn', 'kis'] },
  {
    detector: 'phone',
    category: 'phone',
    words: ['hp', 'telp', 'telepon', 'tlp', 'phone', 'wa', 'whatsapp', 'mobile', 'ponsel', 'handphone', 'telephone'],
  },
  { detector: 'email', category: 'email', words: ['email', 'e_mail', 'surel', 'mail'] },
  {
    detector: 'bank_account',
    category: 'financial',
    words: ['rekening', 'no_rek', 'norek', 'rek', 'account_number', 'bank_account', 'iban'],
  },
  {
    detector: 'financial',
    category: 'financial',
    words: [
      'gaji',
      'penghasilan',
      'pendapatan',
      'saldo',
      'salary',
      'income',
      'harta',
      'kekayaan',
      'utang',
      'hutang',
      'pinjaman',
    ],
  },
  {
    detector: 'health',
    category: 'health',
    words: [
      'diagnosa',
      'diagnosis',
      'penyakit',
      'riwayat_penyakit',
      'kesehatan',
      'health',
      'disabilitas',
      'disability',
      'icd',
      'icd10',
      'medis',
      'medical',
      'difabel',
    ],
  },
  {
    detector: 'criminal_record',
    category: 'criminal_record',
    words: [
      'pidana',
      'catatan_kriminal',
      'criminal',
      'kriminal',
      'status_hukum',
      'vonis',
      'tersangka',
      'terdakwa',
      'terpidana',
      'narapidana',
      'skck',
      'conviction',
    ],
  },
  {
    detector: 'biometric',
    category: 'biometric',
    words: [
      'sidik_jari',
      'fingerprint',
      'foto_wajah',
      'face',
      'wajah',
      'biometrik',
      'biometric',
      'iris',
      'retina',
      'pas_foto',
    ],
  },
  { detector: 'genetic', category: 'genetic', words: ['dna', 'genetik', 'genetic', 'genom', 'genome'] },
  {
    detector: 'birthplace',
    category: 'other_general',
    words: ['tempat_lahir', 'tmp_lahir', 'tmpt_lahir', 'birth_place', 'birthplace', 'place_of_birth'],
  },
  {
    detector: 'birthdate',
    category: 'birthdate',
    words: [
      'tgl_lahir',
      'tanggal_lahir',
      'tgllahir',
      'birth_date',
      'birthdate',
      'date_of_birth',
      'dob',
      'lahir',
      'born',
    ],
  },
  { detector: 'sex', category: 'other_general', words: ['jenis_kelamin', 'jk', 'kelamin', 'gender', 'sex'] },
  { detector: 'religion', category: 'other_general', words: ['agama', 'religion', 'kepercayaan'] },
  { detector: 'address', category: 'address', words: ['alamat', 'address', 'domisili', 'jalan', 'street'] },
  {
    detector: 'name_hint',
    category: 'name',
    words: ['nama', 'nama_lengkap', 'name', 'full_name', 'fullname', 'first_name', 'last_name', 'surname'],
  },
];

/** Words that make a `nama`/`name` column name a thing, not a person (`nama_partai`, `unit_name`). */
const NOT_A_PERSON = new Set(
  (
    'partai party tps kecamatan desa kelurahan kabupaten kota provinsi instansi kegiatan lembaga dataset file ' +
    'berkas dokumen unit kantor wilayah daerah organisasi sekolah bank produk acara pemilu dapil org organization ' +
    'company perusahaan program project kampanye barang jabatan pekerjaan region district village city province ' +
    'field table kategori category jenis tipe type status'
  ).split(' '),
);

const NAME_FAMILY = FAMILIES.find((f) => f.detector === 'name_hint')!;

export function hintFor(fieldName: string): Hint | null {
  const name = `_${fieldName.toLowerCase()}_`;
  const tokens = fieldName.toLowerCase().split('_');
  // `nama_terdakwa`, `nama_pasien`: a name column, whatever the words after `nama` say of the person.
  if ((tokens[0] === 'nama' || tokens[0] === 'name') && !tokens.some((t) => NOT_A_PERSON.has(t)))
    return { detector: NAME_FAMILY.detector, category: NAME_FAMILY.category, word: tokens[0] };
  for (const family of FAMILIES) {
    for (const word of family.words) {
      if (!name.includes(`_${word}_`)) continue;
      if (family.detector === 'name_hint' && tokens.some((t) => NOT_A_PERSON.has(t))) return null;
      return { detector: family.detector, category: family.category, word };
    }
  }
  return null;
}
