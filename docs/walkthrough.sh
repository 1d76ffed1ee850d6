#!/usr/bin/env bash
# The README's session, runnable: mint tokens, create and label a dataset, load records, read them as
# three principals, and check the audit trail. Needs a running Jaga (npm start) with the same JWT_SECRET.
#   export JWT_SECRET=$(openssl rand -hex 32); npm start &   then   bash docs/walkthrough.sh
set -euo pipefail
J=${J:-http://localhost:8080}
cd "$(dirname "$0")/.."
token() { npm run -s token -- "$@" 2>/dev/null; }
show() { printf '\n$ %s\n' "$*" >&2; }

STEWARD=$(token --sub siti --roles steward --unit 32 --purposes penanganan-pelanggaran)
STAFF32=$(token --sub andi --roles staff --unit 32 --purposes penanganan-pelanggaran)
STAFF33=$(token --sub rudi --roles staff --unit 33 --purposes penanganan-pelanggaran)
AUDITOR=$(token --sub rina --roles auditor --unit RI)
OFFICER=$(token --sub dewi --roles ppid --unit 32)
OFFICER2=$(token --sub bayu --roles ppid --unit 32)

show "register the processing purpose the tokens declare (UU 27/2022 art. 20, 31), as a PPID"
curl -s -X POST $J/v1/purposes -H "authorization: Bearer $OFFICER" -H 'content-type: application/json' -d '{
  "id": "penanganan-pelanggaran", "description": "Penanganan pelanggaran pemilu (violation handling)",
  "lawfulBasis": "legal_obligation", "recipients": ["Bawaslu RI", "Gakkumdu"], "retention": "10 tahun"}' \
  | jq -c '{id, lawfulBasis, datasets, categories}'

show "GET /v1/me as the steward"
curl -s $J/v1/me -H "authorization: Bearer $STEWARD"; echo

show "create a dataset (unlabelled: it discloses nothing yet)"
curl -s -X POST $J/v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "laporan-pelanggaran-2024", "title": "Laporan pelanggaran pemilu 2024", "ownerUnit": "32", "sourceSystem": "SIGAPLAPOR",
  "summary": "Laporan dugaan pelanggaran pemilu 2024 yang diterima Bawaslu Jawa Barat dan putusannya",
  "responsibleOfficial": {"name": "Dewi Lestari", "position": "PPID Bawaslu Provinsi Jawa Barat"},
  "producedAt": "2024", "producedPlace": "Bandung", "forms": ["elektronik (CSV)"],
  "retention": {"period": "10 tahun", "reference": "Jadwal Retensi Arsip Bawaslu"}, "infoKind": "setiap_saat",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"received_on","type":"date"}, {"name":"category","type":"string"},
    {"name":"reporter_name","type":"string","personalData":"name"}, {"name":"reporter_nik","type":"string","personalData":"nik"},
    {"name":"reporter_phone","type":"string","personalData":"phone"},
    {"name":"reported_party_status","type":"string","personalData":"criminal_record"}, {"name":"ruling","type":"string"} ] }' \
  | jq -c '{id, classification, labelVersion}'

show "label it public: personal-data fields stay restricted"
curl -s -X PUT $J/v1/datasets/laporan-pelanggaran-2024/label -H "authorization: Bearer $STEWARD" \
  -H 'content-type: application/json' -d '{"classification":"public"}' | jq -c '[.fields[] | {name, effectiveClassification}]'

show "an exemption: the identities of witnesses, proposed with grounds, consequence test, period and review date"
curl -s -X POST $J/v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "identitas-saksi-2024", "title": "Identitas saksi laporan pelanggaran 2024", "ownerUnit": "32",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"witness_name","type":"string","personalData":"name"} ] }' > /dev/null
REVIEW=$(date -u -d '+6 months' +%Y-%m-%d); TODAY=$(date -u +%Y-%m-%d)
curl -s -X PUT $J/v1/datasets/identitas-saksi-2024/label -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "classification": "exempt", "subject": "Identitas saksi dalam laporan pelanggaran pemilu 2024",
  "grounds": ["17a.1", "17j"], "statute": "UU 7/2017 pasal 93",
  "consequenceTest": {
    "harm": "Membuka identitas saksi membahayakan keselamatan saksi dan menghambat penanganan pelanggaran.",
    "protectedInterest": "Keselamatan saksi dan proses penegakan hukum pemilu",
    "publicInterest": "Publik berkepentingan atas penanganan pelanggaran; putusan dan amarnya tetap dibuka.",
    "balance": "Putusan dibuka penuh; hanya identitas saksi yang ditutup, sehingga kepentingan publik tetap terpenuhi.",
    "conclusion": "Identitas saksi dikecualikan.",
    "timing": "before_request", "testRecordNo": "UK/32/2024/7", "testDate": "'"$TODAY"'",
    "participants": ["PPID Bawaslu Provinsi Jawa Barat", "Kepala Divisi Hukum"] },
  "period": {"until": "2034-12-31"},
  "liftConditions": ["saksi menyetujui secara tertulis", "putusan pengadilan atau Komisi Informasi"],
  "reviewBy": "'"$REVIEW"'" }' | jq -c '{classification, labelStatus}'
show "another PPID approves it by a decision the head of the body agreed to; the DIK lists it"
curl -s -X POST $J/v1/datasets/identitas-saksi-2024/label/approve -H "authorization: Bearer $OFFICER2" -H 'content-type: application/json' -d '{
  "decision": {"ref": "KEP-PPID/32/2024/12", "date": "'"$TODAY"'", "place": "Bandung",
    "agreedBy": {"name": "Ketua Bawaslu Provinsi Jawa Barat", "position": "Ketua"}}}' | jq -c '{classification, labelStatus}'
curl -s $J/v1/registers/exempt | jq -c '.items[] | {dikNo, id, subject, grounds, statute, period, decision: .decision.ref}'
show "the PPID determines the DIP; the DIP lists the dataset with its columns"
curl -s -X POST $J/v1/registers/public/determinations -H "authorization: Bearer $OFFICER" -H 'content-type: application/json' \
  -d '{"ref": "KEP-PPID/32/2024/13", "date": "'"$TODAY"'"}' | jq -c '{unit, ref, date}'
curl -s $J/v1/registers/public | jq -c '.items[] | {registerNo, id, summary, infoKind, access, determination}'

show "load three records (CSV)"
curl -s -X POST $J/v1/datasets/laporan-pelanggaran-2024/records -H "authorization: Bearer $STEWARD" \
  -H 'content-type: text/csv' --data-binary @docs/examples/violation-reports.csv; echo

show "read 1: anonymous open data"
curl -s "$J/v1/public/datasets/laporan-pelanggaran-2024/records?limit=1" | jq -c '.items[0]'
show "read 2: staff of unit 33 (another province), with a purpose"
curl -s -D - -o /tmp/jaga-read2.json "$J/v1/datasets/laporan-pelanggaran-2024/records?limit=1" -H "authorization: Bearer $STAFF33" \
  -H 'x-purpose: penanganan-pelanggaran' | grep -i '^x-jaga' || true; jq -c '.items[0]' /tmp/jaga-read2.json
show "read 3: staff of unit 32, with a purpose (masked)"
curl -s "$J/v1/datasets/laporan-pelanggaran-2024/records?limit=1" -H "authorization: Bearer $STAFF32" \
  -H 'x-purpose: penanganan-pelanggaran' | jq -c '.items[0]'
show "read 4: the steward of unit 32, with a purpose"
curl -s -D - -o /tmp/jaga-read4.json "$J/v1/datasets/laporan-pelanggaran-2024/records?limit=1" -H "authorization: Bearer $STEWARD" \
  -H 'x-purpose: penanganan-pelanggaran' | grep -i '^x-jaga\|^x-decision' || true; jq -c '.items[0]' /tmp/jaga-read4.json

show "read 5: staff of unit 32 with a purpose that is not registered: no personal data, and why"
STAFF32X=$(token --sub andi --roles staff --unit 32 --purposes kampanye)
curl -s -D - -o /tmp/jaga-read5.json "$J/v1/datasets/laporan-pelanggaran-2024/records?limit=1" -H "authorization: Bearer $STAFF32X" \
  -H 'x-purpose: kampanye' | grep -i '^x-jaga-omitted-reason' || true; jq -c '.items[0]' /tmp/jaga-read5.json
show "the record of processing (UU 27/2022 art. 31), as the auditor"
curl -s $J/v1/registers/processing -H "authorization: Bearer $AUDITOR" \
  | jq -c '.items[] | {dataset, categories, purposes: [.purposes[] | {id, lawfulBasis}]}'

show "audit: the dataset's disclosures, as the auditor"
curl -s "$J/v1/audit/decisions?dataset=laporan-pelanggaran-2024&event=disclosure" -H "authorization: Bearer $AUDITOR" \
  | jq -c '.items[] | {at, who: .principal.sub, effect, purpose, lawfulBasis: .details.lawfulBasis, fields}'
show "audit: the same as CSV"
curl -s "$J/v1/audit/decisions?dataset=laporan-pelanggaran-2024&event=disclosure" -H "authorization: Bearer $AUDITOR" -H 'accept: text/csv' | head -3
show "audit: verify the chain"
curl -s $J/v1/audit/verify -H "authorization: Bearer $AUDITOR"; echo
show "audit: keep a checkpoint, then verify against it with the CLI (on the embedded database, through the running server)"
curl -s $J/v1/audit/checkpoint -H "authorization: Bearer $AUDITOR" > /tmp/jaga-checkpoint.json
npm run -s audit:verify -- --checkpoint /tmp/jaga-checkpoint.json --quiet
