#!/usr/bin/env bash
# Lints the served OpenAPI document with Redocly (recommended) and Spectral (spectral:oas), both
# unchanged; fails on any error or warning from either.
set -euo pipefail
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$(dirname "$0")/.."
doc=.openapi.json
node scripts/openapi.ts "$doc"
redocly lint "$doc" --format=stylish
totals=$(redocly lint "$doc" --format=json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s).totals;console.log(t.errors+t.warnings+t.ignored)})')
if [ "$totals" != "0" ]; then echo "Redocly: $totals problems (warnings count)" >&2; exit 1; fi
spectral lint "$doc" --fail-severity=hint
