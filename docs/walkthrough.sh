#!/usr/bin/env bash
# The README's session, runnable: mint tokens, create and label a dataset, load records, read them as
# three principals, check the audit trail, and scan a raw import for personal data. Needs a running
# Jaga (npm start) with the same JWT_SECRET (and, on the embedded database, the same JAGA_DATA_DIR, for
# the audit:verify CLI).
#   export JWT_SECRET=$(openssl rand -hex 32); npm start &   then   bash docs/walkthrough.sh
#
# Any answer that is not 2xx stops the script with its status and problem document (exit 1).
# Re-runnable: each run creates its own dataset (laporan-pelanggaran-2024-<run id>). Its files
# (checkpoint.json, disclosures.csv, the read bodies) go to a fresh temporary folder, named at the
# end; set OUT to choose it.
set -euo pipefail
J=${J:-http://localhost:8080}
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/jaga-walkthrough.XXXXXX")}
mkdir -p "$OUT"
RUN=${RUN:-$(date +%s)-$$}
DS="laporan-pelanggaran-2024-$RUN"

token() { npm run -s token -- "$@" 2>/dev/null; }
show() { printf '\n$ %s\n' "$*" >&2; }

# api METHOD PATH [curl options…]: the body on stdout (also kept in $OUT/last-body); headers in
# $OUT/last-headers. A non-2xx answer is an error, shown and fatal.
api() {
  local method=$1 path=$2 status
  shift 2
  status=$(curl -sS -X "$method" -o "$OUT/last-body" -D "$OUT/last-headers" -w '%{http_code}' "$@" "$J$path")
  if [[ $status != 2?? ]]; then
    printf '\nFAILED: %s %s answered %s\n' "$method" "$path" "$status" >&2
    cat "$OUT/last-body" >&2
    echo >&2
    exit 1
  fi
  cat "$OUT/last-body"
}

STEWARD=$(token --sub siti --roles steward --unit 32 --purposes penanganan-pelanggaran)
STAFF32=$(token --sub andi --roles staff --unit 32 --purposes penanganan-pelanggaran)
STAFF33=$(token --sub rudi --roles staff --unit 33 --purposes penanganan-pelanggaran)
AUDITOR=$(token --sub rina --roles auditor --unit RI)
OFFICER=$(token --sub dewi --roles ppid --unit 32)
OFFICER2=$(token --sub bayu --roles ppid --unit 32)
[[ -n $STEWARD && -n $AUDITOR ]] || {
  echo "FAILED: npm run token minted nothing: is JWT_SECRET set (the server's)?" >&2
  exit 1
}
TODAY=$(date -u +%Y-%m-%d)
REVIEW=$(date -u -d '+6 months' +%Y-%m-%d)


show "GET /v1/me as the steward"
api GET /v1/me -H "authorization: Bearer $STEWARD"
echo

show "register the processing purpose the tokens declare (UU 27/2022 art. 20, 31), as a PPID"
# Registered once per database: a later run finds it there (409) and goes on.
status=$(curl -sS -o "$OUT/last-body" -w '%{http_code}' -X POST "$J/v1/purposes" -H "authorization: Bearer $OFFICER" \
  -H 'content-type: application/json' -d '{
  "id": "penanganan-pelanggaran", "description": "Penanganan pelanggaran pemilu (violation handling)",
  "lawfulBasis": "legal_obligation", "recipients": ["Bawaslu RI", "Gakkumdu"], "retention": "10 tahun"}')
case $status in
  201) jq -c '{id, lawfulBasis, datasets, categories}' "$OUT/last-body" ;;
  409) echo "(already registered by an earlier run)" ;;
  *) printf '\nFAILED: POST /v1/purposes answered %s\n' "$status" >&2; cat "$OUT/last-body" >&2; exit 1 ;;
esac

show "create a dataset (unlabelled: it discloses nothing yet)"
api POST /v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "'"$DS"'", "title": "Laporan pelanggaran pemilu 2024", "ownerUnit": "32", "sourceSystem": "SIGAPLAPOR",
  "summary": "Laporan dugaan pelanggaran pemilu 2024 yang diterima Bawaslu Jawa Barat dan putusannya",
  "responsibleOfficial": {"name": "Dewi Lestari", "position": "PPID Bawaslu Provinsi Jawa Barat"},
  "producedAt": "2024", "producedPlace": "Bandung", "forms": ["elektronik (CSV)"],
  "retention": {"period": "10 tahun", "reference": "Jadwal Retensi Arsip Bawaslu"}, "infoKind": "setiap_saat",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"received_on","type":"date"}, {"name":"category","type":"string"},
    {"name":"reporter_name","type":"string","personalData":"name"}, {"name":"reporter_nik","type":"string","personalData":"nik"},
    {"name":"reporter_phone","type":"string","personalData":"phone"},
    {"name":"reported_party_status","type":"string","personalData":"criminal_record"}, {"name":"ruling","type":"string"} ] }' |
  jq -c '{id, classification, labelVersion}'

show "label it public: personal-data fields stay restricted"
api PUT "/v1/datasets/$DS/label" -H "authorization: Bearer $STEWARD" \
  -H 'content-type: application/json' -d '{"classification":"public"}' | jq -c '[.fields[] | {name, effectiveClassification}]'

show "an exemption: the identities of witnesses, proposed with grounds, consequence test, period and review date"
api POST /v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "'"$DS-saksi"'", "title": "Identitas saksi laporan pelanggaran 2024", "ownerUnit": "32",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"witness_name","type":"string","personalData":"name"} ] }' > /dev/null
api PUT "/v1/datasets/$DS-saksi/label" -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
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
api POST "/v1/datasets/$DS-saksi/label/approve" -H "authorization: Bearer $OFFICER2" -H 'content-type: application/json' -d '{
  "decision": {"ref": "KEP-PPID/32/2024/12", "date": "'"$TODAY"'", "place": "Bandung",
    "agreedBy": {"name": "Ketua Bawaslu Provinsi Jawa Barat", "position": "Ketua"}}}' | jq -c '{classification, labelStatus}'
api GET "/v1/registers/exempt?limit=200" | jq -c --arg id "$DS-saksi" '.items[] | select(.id == $id) | {dikNo, id, subject, grounds, statute, period, decision: .decision.ref}'
show "the PPID determines the DIP; the DIP lists the dataset with its columns"
api POST /v1/registers/public/determinations -H "authorization: Bearer $OFFICER" -H 'content-type: application/json' \
  -d '{"ref": "KEP-PPID/32/2024/13", "date": "'"$TODAY"'"}' | jq -c '{unit, ref, date}'
api GET "/v1/registers/public?limit=200" | jq -c --arg id "$DS" '.items[] | select(.id == $id) | {registerNo, id, summary, infoKind, access, determination}'

show "load three records (CSV)"
api POST "/v1/datasets/$DS/records" -H "authorization: Bearer $STEWARD" \
  -H 'content-type: text/csv' --data-binary @docs/examples/violation-reports.csv
echo

show "read 1: anonymous open data"
api GET "/v1/public/datasets/$DS/records?limit=1" | jq -c '.items[0]'
show "read 2: staff of unit 33 (another province), with a purpose"
api GET "/v1/datasets/$DS/records?limit=1" -H "authorization: Bearer $STAFF33" \
  -H 'x-purpose: penanganan-pelanggaran' > "$OUT/read2.json"
grep -i '^x-jaga' "$OUT/last-headers" || true
jq -c '.items[0]' "$OUT/read2.json"
show "read 3: staff of unit 32, with a purpose (masked)"
api GET "/v1/datasets/$DS/records?limit=1" -H "authorization: Bearer $STAFF32" \
  -H 'x-purpose: penanganan-pelanggaran' | jq -c '.items[0]'
show "read 4: the steward of unit 32, with a purpose"
api GET "/v1/datasets/$DS/records?limit=1" -H "authorization: Bearer $STEWARD" \
  -H 'x-purpose: penanganan-pelanggaran' > "$OUT/read4.json"
grep -i '^x-jaga\|^x-decision' "$OUT/last-headers" || true
jq -c '.items[0]' "$OUT/read4.json"

show "read 5: staff of unit 32 with a purpose that is not registered: no personal data, and why"
STAFF32X=$(token --sub andi --roles staff --unit 32 --purposes kampanye)
api GET "/v1/datasets/$DS/records?limit=1" -H "authorization: Bearer $STAFF32X" -H 'x-purpose: kampanye' > "$OUT/read5.json"
grep -i '^x-jaga-omitted-reason' "$OUT/last-headers" || true
jq -c '.items[0]' "$OUT/read5.json"
show "the record of processing (UU 27/2022 art. 31), as the auditor"
api GET /v1/registers/processing -H "authorization: Bearer $AUDITOR" |
  jq -c --arg id "$DS" '.items[] | select(.dataset == $id) | {dataset, categories, purposes: [.purposes[] | {id, lawfulBasis}]}'

show "audit: the dataset's disclosures, as the auditor"
api GET "/v1/audit/decisions?dataset=$DS&event=disclosure" -H "authorization: Bearer $AUDITOR" |
  jq -c '.items[] | {at, who: .principal.sub, effect, purpose, lawfulBasis: .details.lawfulBasis, fields}'
show "audit: the same as CSV (into $OUT/disclosures.csv)"
api GET "/v1/audit/decisions?dataset=$DS&event=disclosure" -H "authorization: Bearer $AUDITOR" \
  -H 'accept: text/csv' > "$OUT/disclosures.csv"
head -3 "$OUT/disclosures.csv"
show "audit: verify the chain"
api GET /v1/audit/verify -H "authorization: Bearer $AUDITOR" | jq -ce 'if .ok then . else error("the chain is broken") end'
show "audit: keep a checkpoint, then verify against it with the CLI (on the embedded database, through the running server)"
api GET /v1/audit/checkpoint -H "authorization: Bearer $AUDITOR" > "$OUT/checkpoint.json"
npm run -s audit:verify -- --checkpoint "$OUT/checkpoint.json" --quiet

show "detection: the same reports imported raw (no personal data declared), labelled public; the upload quarantines what it finds"
api POST /v1/datasets -H "authorization: Bearer $STEWARD" -H 'content-type: application/json' -d '{
  "id": "'"$DS-impor"'", "title": "Laporan pelanggaran (impor mentah)", "ownerUnit": "32", "sourceSystem": "SIGAPLAPOR",
  "fields": [ {"name":"report_no","type":"string"}, {"name":"received_on","type":"date"}, {"name":"category","type":"string"},
    {"name":"reporter_name","type":"string"}, {"name":"reporter_nik","type":"string"}, {"name":"reporter_phone","type":"string"},
    {"name":"reported_party_status","type":"string"}, {"name":"ruling","type":"string"} ] }' > /dev/null
api PUT "/v1/datasets/$DS-impor/label" -H "authorization: Bearer $STEWARD" \
  -H 'content-type: application/json' -d '{"classification":"public"}' > /dev/null
api POST "/v1/datasets/$DS-impor/records" -H "authorization: Bearer $STEWARD" \
  -H 'content-type: text/csv' --data-binary @docs/examples/violation-reports.csv | jq -c '{inserted, quarantined: [.quarantined[] | {field, personalData}]}'
show "detection: the anonymous read of it, in the same state"
api GET "/v1/public/datasets/$DS-impor/records?limit=1" | jq -c '.items[0]'
show "detection: a scan suggests a label per field, with evidence (never values)"
api POST "/v1/datasets/$DS-impor/scan" -H "authorization: Bearer $STEWARD" \
  | jq -c '.suggestions[] | select(.personalData != "none") | {field, personalData, personalDataKind, mask, confidence, evidence, status}'
show "detection: the steward accepts one suggestion (a label event) and reads the field's provenance"
api POST "/v1/datasets/$DS-impor/fields/reporter_nik/suggestion/accept" -H "authorization: Bearer $STEWARD" \
  | jq -c '.fields[] | select(.name == "reporter_nik" or .name == "reporter_phone") | {name, personalData, provenance, quarantined, effectiveClassification}'

rm -f "$OUT/last-body" "$OUT/last-headers"
printf '\nwalkthrough done: dataset %s; files in %s\n' "$DS" "$OUT" >&2
