#!/usr/bin/env bash
# Every documented handler (a `pub async fn` under `#[utoipa::path]` in api/src) stays under
# HANDLER_MAX_LINES (default 60) lines: parsing lives in the request structs (api/src/request/)
# and the steps in named functions beside the handler. Lists the offenders and fails.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
exec python3 - "$REPO/api/src" "${HANDLER_MAX_LINES:-60}" <<'PY'
import pathlib, re, sys
root, limit = pathlib.Path(sys.argv[1]), int(sys.argv[2])
long = []
for path in sorted(root.rglob("*.rs")):
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("#[utoipa::path"):
            j = next((k for k in range(i, len(lines)) if re.match(r"\s*pub async fn ", lines[k])), None)
            if j is None:
                break
            end = next((k for k in range(j, len(lines)) if lines[k] == "}"), len(lines) - 1)
            name = re.match(r"\s*pub async fn (\w+)", lines[j]).group(1)
            if end - j + 1 > limit:
                long.append(f"{path.relative_to(root.parent.parent)}:{j + 1} {name}: {end - j + 1} lines")
            i = end
        i += 1
for line in long:
    print(f"handler-size: {line} (over {limit})")
if long:
    sys.exit(1)
print(f"handler-size: every documented handler is at most {limit} lines")
PY
