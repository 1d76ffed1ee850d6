#!/usr/bin/env bash
# The README's session, runnable: mint tokens, create and label a dataset, load records, read them as
# three principals, check the audit trail, and scan a raw import for personal data. Needs a running Jaga (npm start) with the same JWT_SECRET.
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

show "GET /v1/me as the steward"
curl -s $J/v1/me -H "authorization: Bearer $STEWARD"; echo

show "create a dataset (unlabelled: it discloses nothing yet)"
curl -s -X POST $J/v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "laporan-pelanggaran-2024", "title": "Laporan pelanggaran pemilu 2024", "ownerUnit": "32", "sourceSystem": "SIGAPLAPOR",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"received_on","type":"date"}, {"name":"category","type":"string"},
    {"name":"reporter_name","type":"string","personalData":"name"}, {"name":"reporter_nik","type":"string","personalData":"nik"},
    {"name":"reporter_phone","type":"string","personalData":"phone"},
    {"name":"reported_party_status","type":"string","personalData":"criminal_record"}, {"name":"ruling","type":"string"} ] }' \
  | jq -c '{id, classification, labelVersion}'

show "label it public: personal-data fields stay restricted"
curl -s -X PUT $J/v1/datasets/laporan-pelanggaran-2024/label -H "authorization: Bearer $STEWARD" \
  -H 'content-type: application/json' -d '{"classification":"public"}' | jq -c '[.fields[] | {name, effectiveClassification}]'

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

show "audit: the dataset's disclosures, as the auditor"
curl -s "$J/v1/audit/decisions?dataset=laporan-pelanggaran-2024&event=disclosure" -H "authorization: Bearer $AUDITOR" \
  | jq -c '.items[] | {at, who: .principal.sub, effect, purpose, fields}'
show "audit: the same as CSV"
curl -s "$J/v1/audit/decisions?dataset=laporan-pelanggaran-2024&event=disclosure" -H "authorization: Bearer $AUDITOR" -H 'accept: text/csv' | head -3
show "audit: verify the chain"
curl -s $J/v1/audit/verify -H "authorization: Bearer $AUDITOR"; echo
show "audit: keep a checkpoint, then verify against it with the CLI (on the embedded database, through the running server)"
curl -s $J/v1/audit/checkpoint -H "authorization: Bearer $AUDITOR" > /tmp/jaga-checkpoint.json
npm run -s audit:verify -- --checkpoint /tmp/jaga-checkpoint.json --quiet

show "detection: the same reports imported raw (no personal data declared), labelled public; the upload quarantines what it finds"
curl -s -X POST $J/v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "laporan-pelanggaran-impor", "title": "Laporan pelanggaran (impor mentah)", "ownerUnit": "32", "sourceSystem": "SIGAPLAPOR",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"received_on","type":"date"}, {"name":"category","type":"string"},
    {"name":"reporter_name","type":"string"}, {"name":"reporter_nik","type":"string"}, {"name":"reporter_phone","type":"string"},
    {"name":"reported_party_status","type":"string"}, {"name":"ruling","type":"string"} ] }' > /dev/null
curl -s -X PUT $J/v1/datasets/laporan-pelanggaran-impor/label -H "authorization: Bearer $STEWARD" \
  -H 'content-type: application/json' -d '{"classification":"public"}' > /dev/null
curl -s -X POST $J/v1/datasets/laporan-pelanggaran-impor/records -H "authorization: Bearer $STEWARD" \
  -H 'content-type: text/csv' --data-binary @docs/examples/violation-reports.csv | jq -c '{inserted, quarantined: [.quarantined[] | {field, personalData}]}'
show "detection: the anonymous read of it, in the same state"
curl -s "$J/v1/public/datasets/laporan-pelanggaran-impor/records?limit=1" | jq -c '.items[0]'
show "detection: a scan suggests a label per field, with evidence (never values)"
curl -s -X POST $J/v1/datasets/laporan-pelanggaran-impor/scan -H "authorization: Bearer $STEWARD" \
  | jq -c '.suggestions[] | select(.personalData != "none") | {field, personalData, personalDataKind, mask, confidence, evidence, status}'
show "detection: the steward accepts one suggestion (a label event) and reads the field's provenance"
curl -s -X POST $J/v1/datasets/laporan-pelanggaran-impor/fields/reporter_nik/suggestion/accept -H "authorization: Bearer $STEWARD" \
  | jq -c '.fields[] | select(.name == "reporter_nik" or .name == "reporter_phone") | {name, personalData, provenance, quarantined, effectiveClassification}'
