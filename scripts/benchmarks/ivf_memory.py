"""`bench.py ivf-memory`: peak memory of building the IVF-SQ8 index alone (index.vectors.train_ivf) over N random
float16 vectors.

    .venv/bin/python scripts/bench.py ivf-memory 629052 /tmp/ivfmem          # writes the vector segment once
    .venv/bin/python scripts/bench.py ivf-memory 629052 /tmp/ivfmem read     # the build's way: file reads
    .venv/bin/python scripts/bench.py ivf-memory 629052 /tmp/ivfmem mapped   # the earlier way: a memory map

Prints VmHWM (peak resident memory), RssAnon and RssFile after the pass, and its seconds. Asserts nothing.
Run each mode in its own process (as above): the peak is the process's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DIM = 384


def add_parser(commands) -> None:
    parser = commands.add_parser("ivf-memory", help="peak memory of training and filling the IVF-SQ8 index alone",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int, help="vectors in the segment")
    parser.add_argument("folder", type=Path, help="where the segment and the IVF file go")
    parser.add_argument("mode", nargs="?", choices=["read", "mapped"],
                        help="how the pass reads the vectors; none: write the segment")


def memory() -> str:
    with open("/proc/self/status", encoding="utf-8") as status:
        return " ".join(" ".join(line.split()) for line in status if line.startswith(("VmHWM", "RssAnon", "RssFile")))


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from index.manifest import Segment
    from index.vectors import SegmentWriter, VectorStore, train_ivf

    count, folder, mode = args.count, args.folder, args.mode
    folder.mkdir(parents=True, exist_ok=True)
    segment = folder / "vectors.f16"
    if mode is None:
        writer, rng = SegmentWriter(segment, DIM, 0), np.random.default_rng(0)
        for start in range(0, count, 50_000):
            rows = rng.normal(size=(min(50_000, count - start), DIM)).astype(np.float32)
            writer.add(rows / np.linalg.norm(rows, axis=1, keepdims=True))
        print(writer.close())
        return 0
    store = VectorStore(folder, [Segment(file=segment.name, first=0, count=count, sha256="")], DIM,
                        np.zeros(0, np.int64))
    if mode == "mapped":
        def mapped_blocks(size: int):
            for slots, rows in store.iter_rows():
                for start in range(0, len(slots), size):
                    yield slots[start : start + size], rows[start : start + size]

        store.iter_blocks = mapped_blocks  # type: ignore[method-assign]
    started = time.perf_counter()
    train_ivf(store, folder / f"ann-{mode}.faiss")
    print(f"{mode}: {time.perf_counter() - started:.1f} s; {memory()}")
    return 0
