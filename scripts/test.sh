#!/usr/bin/env bash
# What `npm test` runs: starts the local services (fast when they are already up), points the tests at them and
# runs node's test runner over every test file, or over the folders/files given (`npm test -- test/unit`).
# Arguments starting with `-` go to the test runner (`npm test -- --test-name-pattern=slot`).
# Services are left running so the next run starts at once; `bash scripts/services.sh stop` ends them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/services.sh start
# shellcheck disable=SC1091
source "${PGMIRROR_SERVICES_DIR:-/tmp/pgmirror-services}/services.env"

options=()
paths=()
for arg in "$@"; do
  if [[ "$arg" == -* ]]; then options+=("$arg"); else paths+=("$arg"); fi
done
((${#paths[@]} > 0)) || paths=(test)

files=()
for path in "${paths[@]}"; do
  if [[ -d "$path" ]]; then
    while IFS= read -r file; do files+=("$file"); done < <(find "$path" -name '*.test.ts' | sort)
  elif [[ -f "$path" ]]; then
    files+=("$path")
  else
    echo "test.sh: no such test file or folder: $path" >&2
    exit 1
  fi
done

if ((${#files[@]} == 0)); then
  echo "test.sh: no *.test.ts files under: ${paths[*]}" >&2
  exit 1
fi

echo "running ${#files[@]} test file(s)"
exec node --import tsx --test --test-concurrency=2 --test-timeout=300000 "${options[@]}" "${files[@]}"
