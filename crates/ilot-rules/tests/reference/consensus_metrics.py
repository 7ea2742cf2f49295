#!/usr/bin/env python3
"""Independent reference for Ilot's consensus glucose metrics (Battelino et al. 2019; GMI:
Bergenstal et al. 2018), written from the definitions, not from the Rust code.

Usage: consensus_metrics.py FILE.csv
Reads a CSV with columns id,time,gl (glucose in mg/dL); rows whose time or gl is NA are skipped.
Prints one JSON document: {"file": ..., "skipped_rows": k, "subjects": [{...}, ...]} with, per
subject: id, n, mean, sd (sample, n - 1), cv (%), gmi (%), tir (70-180 inclusive, %),
below_54, below_70, above_180, above_250 (% of readings, strict bounds).

Standard library only (csv, statistics, math, json), so it runs wherever python3 does.
"""

import csv
import json
import math
import statistics
import sys


def percent(count, total):
    return 100.0 * count / total


def subject_metrics(values):
    n = len(values)
    mean = statistics.fmean(values)
    # statistics.stdev is the sample SD and works in exact fractions before the square root.
    sd = statistics.stdev(values) if n >= 2 else None
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "cv": None if sd is None else 100.0 * sd / mean,
        "gmi": 3.31 + 0.02392 * mean,
        "tir": percent(sum(1 for v in values if 70 <= v <= 180), n),
        "below_54": percent(sum(1 for v in values if v < 54), n),
        "below_70": percent(sum(1 for v in values if v < 70), n),
        "above_180": percent(sum(1 for v in values if v > 180), n),
        "above_250": percent(sum(1 for v in values if v > 250), n),
    }


def main(path):
    by_subject = {}
    skipped = 0
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["time"] == "NA" or row["gl"] == "NA":
                skipped += 1
                continue
            value = float(row["gl"])
            if not math.isfinite(value):
                raise SystemExit(f"{path}: non-finite glucose {row['gl']!r}")
            by_subject.setdefault(row["id"], []).append(value)
    subjects = [
        {"id": sid, **subject_metrics(values)} for sid, values in by_subject.items()
    ]
    json.dump({"file": path, "skipped_rows": skipped, "subjects": subjects}, sys.stdout)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: consensus_metrics.py FILE.csv")
    main(sys.argv[1])
