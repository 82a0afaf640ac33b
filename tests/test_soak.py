"""The soak tool run small: random operations of every kind on a watched archive, five SIGKILLs of the
watcher, then the watched index equals a fresh `build --full` (scripts/soak.py; docs/RELIABILITY.md has a
long run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_soak_small_run_ends_equal_to_a_fresh_build(tmp_path):
    out = tmp_path / "soak.json"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "soak.py"), "--ops", "200", "--kills", "5", "--articles", "40",
         "--pause", "0.6", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=1200)
    assert out.exists(), completed.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["all_equal"], result["equal"]
    assert result["kills"] == 5 and result["workers_left_after_kill"] == 0
    assert result["search_failures"] == 0, result["search_errors"]
    assert result["watcher_exits_not_caused_by_a_kill"] == 0, result["unexpected_exits"]
    assert result["watch_stop_exit"] == 0 and not result["stale"]
    assert result["postings_of_hidden_chunks"] == 0
    assert result["deleted_names_found"].startswith("0/")
    found, asked = result["live_names_found"].split("/")
    assert found == asked
    # The target is 1.3x a fresh build; at 40 articles the tables keep rows of the generation readers may
    # still hold and postings of deleted chunks until 20 % of them are gone, and small runs measured 1.15-1.35x
    # (docs/RELIABILITY.md). What this run holds to: no growth with history beyond that overhead.
    assert result["size"]["serving_ratio"] <= 1.5
    assert result["segments"] <= result["segment_bound"]
    assert completed.returncode == 0
