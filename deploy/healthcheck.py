"""The container's HEALTHCHECK: GET /healthz on HEALTH_PORT; exit 0 for 200, 1 otherwise.

Standard library only (the image has no curl); the reason from a 503 is printed, so
``docker inspect`` shows why the container is unhealthy.
"""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("HEALTH_PORT", "8080")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:
        print(response.read().decode().strip())
except urllib.error.HTTPError as error:
    print(error.read().decode().strip() or f"HTTP {error.code}")
    sys.exit(1)
except OSError as error:
    print(f"/healthz not reachable on port {port}: {error}")
    sys.exit(1)
