"""Time matcher.decide() on the candidate sets a synthetic registration stream produces.

.venv/bin/python bench/matching_decide.py --n 50000
"""

from __future__ import annotations

import argparse
import statistics

from matching.evaluate import evaluate
from matching.synthetic import SyntheticStream


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    result = evaluate(SyntheticStream(args.seed).registrations(args.n))
    times = sorted(result.decide_seconds)
    with_candidates = sorted(
        t for t, c in zip(result.decide_seconds, result.candidate_counts, strict=True) if c
    )
    print(
        f"decide() over {len(times)} registrations: median {statistics.median(times) * 1e6:.0f} us, "
        f"p99 {times[int(len(times) * 0.99)] * 1e6:.0f} us"
    )
    print(
        f"  with candidates ({len(with_candidates)}): median "
        f"{statistics.median(with_candidates) * 1e6:.0f} us, "
        f"p99 {with_candidates[int(len(with_candidates) * 0.99)] * 1e6:.0f} us"
    )


if __name__ == "__main__":
    main()
