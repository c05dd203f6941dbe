"""Fetch mermaid.min.js (pinned version, checked tarball) for the pixmo-docs Mermaid renderer.

    python scripts/fetch_mermaid.py DESTINATION
"""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "12.3.0"
URL = f"https://registry.npmjs.org/mermaid/-/mermaid-{VERSION}.tgz"
TARBALL_SHA256 = "be0684e8d20bfc874df12c0f04927a5c482f57f2200eec54cca52a4583fd4040"
MEMBER = "package/dist/mermaid.min.js"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    destination = Path(sys.argv[1])
    if destination.is_file():
        return 0
    print(f"==> fetching mermaid {VERSION} from the npm registry")
    with urllib.request.urlopen(URL, timeout=120) as response:
        tarball = response.read()
    digest = hashlib.sha256(tarball).hexdigest()
    if digest != TARBALL_SHA256:
        print(f"mermaid-{VERSION}.tgz has sha256 {digest}, expected {TARBALL_SHA256}", file=sys.stderr)
        return 1
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        script = archive.extractfile(MEMBER).read()
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    partial.write_bytes(script)
    partial.replace(destination)
    return 0


if __name__ == "__main__":
    sys.exit(main())
