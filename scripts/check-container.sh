#!/usr/bin/env bash
# Lints the container files where no Docker daemon is at hand (CI, these machines): the Dockerfile
# with dockerfile-utils (the parser behind the VS Code Dockerfile support; Debian has no hadolint
# and PyPI is out of reach here), compose.yaml as YAML. test/foundation/container.test.ts runs the
# runtime stage's layout (the bundle only) and its HEALTHCHECK command.
set -euo pipefail
cd "$(dirname "$0")/.."
npx -y dockerfile-utils@0.16.3 lint Dockerfile
node -e "const d = require('yaml').parse(require('fs').readFileSync('compose.yaml', 'utf8')); if (!d.services?.jaga || !d.services?.postgres) throw new Error('compose.yaml: services jaga and postgres expected');"
echo "container files: Dockerfile lint clean, compose.yaml parses"
