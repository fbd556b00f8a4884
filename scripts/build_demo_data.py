"""Rebuild the demo data bundled in the package from the shared real data.

    python scripts/build_demo_data.py ../shared/data src/paperroute/data [--days 28]

Takes the last ``--days`` days of Hugging Face daily-paper dumps and the arXiv listings of
the same days, in the categories those papers belong to, from the 200k corpus. Writes
``hf-daily.tar.gz`` (one JSON dump per day, as the API returned it) and
``arxiv-listings.jsonl.gz`` (corpus shape), and PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import gzip
import io
import json
import re
import sys
import tarfile
from pathlib import Path

_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})\.json$")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("shared", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--days", type=int, default=28)
    args = parser.parse_args()
    archive = next((args.shared / "hf-daily").glob("hf-daily-papers-*.tar.gz"))
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar if m.isfile() and _DAY.search(m.name)}
        days = sorted(members, key=lambda n: _DAY.search(n).group(1))[-args.days :]  # type: ignore[union-attr]
        first = dt.date.fromisoformat(_DAY.search(days[0]).group(1))  # type: ignore[union-attr]
        last = dt.date.fromisoformat(_DAY.search(days[-1]).group(1))  # type: ignore[union-attr]
        categories: set[str] = set()
        hf_ids: set[str] = set()
        out_tar = io.BytesIO()
        with tarfile.open(fileobj=out_tar, mode="w:gz") as target:
            for name in days:
                data = tar.extractfile(members[name]).read()  # type: ignore[union-attr]
                for item in json.loads(data):
                    if isinstance(item, str):
                        item = ast.literal_eval(item)
                    hf_ids.add(item["paper"]["id"])
                info = tarfile.TarInfo(f"hf-daily/{Path(name).name}")
                info.size = len(data)
                info.mtime = 0
                target.addfile(info, io.BytesIO(data))
    count = 0
    listings = io.BytesIO()
    with gzip.open(args.shared / "corpus" / "arxiv-listings-200k.jsonl.gz", "rb") as corpus:
        rows = []
        for line in corpus:
            record = json.loads(line)
            if record["id"] in hf_ids:
                categories.update(record["categories"][:1])
            rows.append((line, record))
    keep = {"cs.CL", "cs.CV", "cs.LG", "cs.AI"} | categories
    with gzip.GzipFile(fileobj=listings, mode="wb", mtime=0) as target:
        for line, record in rows:
            listed = [dt.date.fromisoformat(d) for d in record["listing_dates"]]
            in_period = any(first <= d <= last for d in listed)
            if (in_period and record["categories"][0] in keep) or record["id"] in hf_ids:
                target.write(line if line.endswith(b"\n") else line + b"\n")
                count += 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hf-daily.tar.gz").write_bytes(out_tar.getvalue())
    (args.out / "arxiv-listings.jsonl.gz").write_bytes(listings.getvalue())
    (args.out / "PROVENANCE.md").write_text(
        "# Demo data (real, not written by this project)\n\n"
        f"- hf-daily.tar.gz: {len(days)} daily dumps of Hugging Face `GET /api/daily_papers?"
        f"date=D`, {first} to {last} ({len(hf_ids)} papers), from "
        "2404589803/hf-daily-paper-newsletter-chinese (Apache-2.0).\n"
        f"- arxiv-listings.jsonl.gz: {count} arXiv records listed in the same days in "
        "the papers' primary categories (and every HF paper found), from the merged data "
        "branches of public daily-arXiv-ai-enhanced scrapers of arXiv's listings (arXiv "
        "metadata).\n\nRebuild with `make demo-data`.\n",
        encoding="utf-8",
    )
    sys.stdout.write(f"{len(days)} days, {len(hf_ids)} HF papers, {count} arXiv records\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
