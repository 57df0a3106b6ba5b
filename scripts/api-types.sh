#!/usr/bin/env bash
# Regenerate frontend/src/lib/api-types.ts from the API's OpenAPI document (commit the result).
# Uses the development Redis and MongoDB (`tickflow services up` starts them if they are not running).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/tickflow services up >/dev/null
mkdir -p var
.venv/bin/python -c 'import json; from app import create_app; print(json.dumps(create_app().test_client().get("/api/v1/openapi.json").json, indent=1))' > var/openapi.json
(cd frontend && npx openapi-typescript ../var/openapi.json -o src/lib/api-types.ts)
