"""Rebuild src/paperroute/data/demo-vectors.npz: the demo data's all-MiniLM-L6-v2 vectors.

    python scripts/build_demo_vectors.py [DATABASE_URL] [OUTPUT]

Loads the demo data into a fresh SQLite database (unless DATABASE_URL names one already
loaded), runs `paperroute embed` (resumable: only papers without a current vector), then
exports every vector with its paper id and text hash. `make demo-vectors` runs it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from paperroute import Config, open_hub
from paperroute.search._demo_vectors import DEMO_VECTORS, export_vectors

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "src/paperroute/data" / DEMO_VECTORS
    with tempfile.TemporaryDirectory(prefix="paperroute-demo-vectors-") as folder:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(folder) / 'demo.db'}"
        command = [sys.executable, "-m", "paperroute", "--database-url", url]
        if len(sys.argv) <= 1:
            # Without the shipped vectors, so that every vector is made anew.
            with open_hub(Config(database_url=url)) as hub:
                from paperroute.ingest import ingest_demo

                ingest_demo(hub)
        subprocess.run([*command, "embed"], check=True)
        with open_hub(Config(database_url=url)) as hub:
            count = export_vectors(hub._db.engine, hub.search.model, output)
    size = output.stat().st_size / 1e6
    sys.stdout.write(f"{count:,} vectors written to {output} ({size:.1f} MB)\n")


if __name__ == "__main__":
    main()
