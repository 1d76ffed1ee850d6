#!/bin/sh
# jaga-follow: prints Jaga's decision log as NDJSON for ever, resuming after the last seq printed
# (docs/audit.md, "Shipping it on"). Run it under a log shipper (Vector's exec source, streaming).
# Needs JAGA_URL, JAGA_TOKEN (an auditor token, renewed before it expires) and STATE (a writable file).
set -u
while :; do
  after=$(cat "$STATE" 2>/dev/null || echo 0)
  curl -sSfN -H "Authorization: Bearer $JAGA_TOKEN" "$JAGA_URL/v1/audit/stream?after=${after:-0}" |
    while IFS= read -r line; do
      [ -z "$line" ] && continue # heartbeat
      printf '%s\n' "$line"
      # Each item begins {"id":"…","seq":N,…}: keep N once the line is handed on.
      printf '%s' "$line" | sed -n 's/^{"id":"[^"]*","seq":\([0-9]*\),.*/\1/p' > "$STATE.tmp" && mv "$STATE.tmp" "$STATE"
    done
  sleep 2 # the stream ended (its longest life, a restart, an outage): resume
done
