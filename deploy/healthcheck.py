"""Container healthcheck: the service answers GET /v1/health (liveness) on its port.

Stdlib only (runs in the slim image); reads the API key from CATALYST_API_KEY or the file
named by CATALYST_API_KEY_FILE, never prints it. Exit 0 healthy, 1 not.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def api_key() -> str | None:
    path = os.environ.get("CATALYST_API_KEY_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get("CATALYST_API_KEY")


def main() -> int:
    port = os.environ.get("CATALYST_SERVICE_PORT", "8080")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/health")
    key = api_key()
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
