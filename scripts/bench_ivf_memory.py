"""Peak memory of building the IVF-SQ8 index alone (index.vectors.train_ivf) over N random float16 vectors.

    .venv/bin/python scripts/bench_ivf_memory.py 629052 /tmp/ivfmem        # writes the vector segment once
    .venv/bin/python scripts/bench_ivf_memory.py 629052 /tmp/ivfmem read    # the build's way: file reads
    .venv/bin/python scripts/bench_ivf_memory.py 629052 /tmp/ivfmem mapped  # the earlier way: a memory map

Prints VmHWM (peak resident memory), RssAnon and RssFile after the pass, and its seconds. Asserts nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.manifest import Segment  # noqa: E402
from index.vectors import SegmentWriter, VectorStore, train_ivf  # noqa: E402

DIM = 384


def memory() -> str:
    with open("/proc/self/status", encoding="utf-8") as status:
        return " ".join(" ".join(line.split()) for line in status if line.startswith(("VmHWM", "RssAnon", "RssFile")))


def main() -> int:
    count, folder = int(sys.argv[1]), Path(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else None
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


if __name__ == "__main__":
    sys.exit(main())
