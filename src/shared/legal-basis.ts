/**
 * A legal basis (a statute and its article, e.g. `UU 7/2017 pasal 93`) in one canonical form, so
 * that an agreement's legal basis and an exemption record's sharing list are compared as the law
 * they name rather than as typed: `Undang-Undang Nomor 7 Tahun 2017 Pasal 93` and
 * `UU No. 7/2017 Ps. 93` are both `uu_7/2017_pasal_93`. The form has no spaces, so the audit log
 * may record it (its details hold ids only).
 */
export function legalBasisKey(text: string): string {
  // Applied until nothing changes, so that the canonical form is its own canonical form.
  let key = canonicalOnce(text);
  for (let i = 0; i < 8; i++) {
    const again = canonicalOnce(key.replaceAll('_', ' '));
    if (again === key) break;
    key = again;
  }
  return key;
}

function canonicalOnce(text: string): string {
  const key = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\bundang[\s-]*undang\b/g, 'uu')
    .replace(/\b(nomor|no\.?)(?=\s|\d|$)/g, ' ')
    .replace(/(\d+)\s*(tahun|th\.?)\s*(\d{4})/g, '$1/$3')
    .replace(/\b(pasal|psl\.?|ps\.|art\.?|article)(?=\s|\d|$)/g, ' pasal ')
    .replace(/[^\p{L}\p{N}/()]+/gu, ' ')
    .replace(/\s*\/\s*/g, '/')
    .trim()
    .split(/\s+/)
    .join('_');
  // At most 200 characters (an audit id), cut between code points.
  return key.length <= 200 ? key : [...key].slice(0, 200).join('');
}

/** Whether `basis` is one of `list`, compared by legalBasisKey. */
export function legalBasisIn(basis: string, list: readonly string[]): boolean {
  const key = legalBasisKey(basis);
  return key !== '' && list.some((b) => legalBasisKey(b) === key);
}
