"""Our matcher and Splink side by side on the same FEBRL rows.

    .venv/bin/python -m bench.compare_splink --dataset 1
    .venv/bin/python -m bench.compare_splink --dataset 4 --json

Both tools read the same LRB batch file (built from FEBRL by ``bench.febrl``):

* ours: the real batch path (``lrs-server serve`` + ``lrs-school register``), run by ``bench.febrl``;
* Splink 5 (DuckDB backend), deduplicating the rows read back from that LRB file with the project's own
  LRB reader (so both see exactly the same input), with no ID number.

Splink model (see ``splink_settings``):

* comparisons: given name and family name each null / exact (term-frequency adjusted) / Damerau-
  Levenshtein <= 1 / Jaro-Winkler >= 0.92, >= 0.88, >= 0.70 / else; date of birth Splink's
  ``DateOfBirthComparison`` (exact / one character apart / within 1 month / 1 year / 10 years / else);
  postcode Splink's ``PostcodeComparison`` (unit / sector / district / area / else); address
  line 1 and town together (both exact / line 1 exact / line 1 Jaro-Winkler >= 0.9 with the town exact /
  line 1 Jaro-Winkler >= 0.9 / town exact / else);
* blocking for prediction: date of birth; postcode; family name; given name; town (any one shared);
* training as Splink's tutorials do: the prior from a deterministic rule (same names and birth date,
  recall 0.7), u by random sampling (seeded), m by EM over three blocking rules (both names; birth
  date; postcode);
* clustering: connected components over pairs at or above ``--threshold`` (match probability 0.95,
  the value Splink's own example clusters at).

Figures, both tools over the same rows, pairwise over all row pairs (a cluster or a ULN of n rows
makes n(n-1)/2 pairs):

* pairwise precision and recall of the pairs put together (same ULN; same Splink cluster). Ours: a
  POSSIBLE_MATCH row has no ULN, so its pairs count as missed (bench.febrl's ``recall_reviews_missed``);
  a Splink review row is likewise left in its own cluster;
* recall with review: as if a reviewer resolved every review row correctly. Ours: bench.febrl's
  ``recall_resolved`` (a POSSIBLE_MATCH row takes its person's ULN when it is among the candidates);
  Splink: a review row is linked to those of its candidates that are truly the same person;
* review rate: review rows / rows. Ours: POSSIBLE_MATCH rows. Splink, read the way a service
  registering the file in order would see it (``splink_outcomes``): a row not in the cluster of any
  earlier row whose best pair *with an earlier row* has 0.5 (``--review-floor``) <= match probability
  < ``--threshold``. Counting both rows of a pair would double the rate against ours, where the first
  row of a pair is simply NEW;
* by category (bench.febrl's ``categorise``, against the closest earlier row of the same person): the
  share of rows whose person has an earlier row that were linked to it automatically / also counting
  correct reviews. Splink's are computed by bench.febrl's own ``metrics`` walk over ``splink_outcomes``;
* time: wall time. Ours: ``bench.febrl.run_batch`` (server start, school set-up, ``lrs-school register``
  to the results file). Splink: training + prediction + clustering, loading the rows into DuckDB
  included (reading the CSV not).

Options beyond the brief's: ``--no-address`` (Splink without the address comparison and town blocking:
what the address, which FEBRL's duplicates mostly keep, is worth to it) and ``--twins N`` (``add_twins``:
N synthetic twins appended, hard negatives FEBRL lacks, so that precision can show something).

Splink's randomness is fixed: u sampling takes ``--seed``; EM, prediction and clustering are
deterministic.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import febrl
from school_client.files.lrb import open_lrb, write_lrb
from school_client.files.rows import LearnerRow

# Columns of the frame Splink deduplicates.
SPLINK_COLUMNS = ("unique_id", "given_name", "family_name", "dob", "postcode", "address_line1", "town")
_SPACES = re.compile(r"\s+")
DEFAULT_THRESHOLD = 0.95  # cluster pairs at or above this match probability (Splink's example)
DEFAULT_REVIEW_FLOOR = 0.5  # a row whose best earlier pair is in [floor, threshold) is a review row
DEFAULT_U_MAX_PAIRS = 5e6
DEFAULT_SEED = 42


# --------------------------------------------------------------------------------------------------
# Reading the shared input


@dataclass(frozen=True, slots=True)
class InputRow:
    """One LRB row as Splink sees it: lower-cased, blank -> None, postcode 'AB1 2CD', DOB ISO or None."""

    mis_identifier: str
    given_name: str | None
    family_name: str | None
    dob: str | None
    postcode: str | None
    address_line1: str | None
    town: str | None


def _text(value: str) -> str | None:
    cleaned = _SPACES.sub(" ", value).strip().lower()
    return cleaned or None


NOT_KNOWN_POSTCODE = "ZZ993CZ"  # the LRB's 'not known' postcode: no evidence, as for our matcher


def _postcode(value: str) -> str | None:
    compact = re.sub(r"\s+", "", value).upper()
    if compact == NOT_KNOWN_POSTCODE:
        return None
    if len(compact) < 5:
        return compact or None
    return f"{compact[:-3]} {compact[-3:]}"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def input_row(row: LearnerRow) -> InputRow:
    dob = row.date_of_birth.strip()
    return InputRow(
        mis_identifier=row.mis_identifier.strip(),
        given_name=_text(row.given_name),
        family_name=_text(row.family_name),
        dob=dob if _ISO_DATE.fullmatch(dob) else None,
        postcode=_postcode(row.postcode),
        address_line1=_text(row.address_line1),
        town=_text(row.town),
    )


def read_lrb_rows(path: Path, limit: int | None = None) -> list[InputRow]:
    """The rows of an LRB file, in file order, read with the school client's own reader.

    Rows the reader refuses (RowProblem) are left out: the service rejects them too.
    """
    rows: list[InputRow] = []
    for item in open_lrb(path):
        if isinstance(item, LearnerRow):
            rows.append(input_row(item))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def add_twins(files: febrl.FebrlFiles, count: int, seed: int = DEFAULT_SEED) -> febrl.FebrlFiles:
    """The same file plus ``count`` twins at its end: a copy of a random original row (same family name,
    birth date, address and postcode) under another given name (another initial) and a person of its own.

    FEBRL has no such hard negatives, so on its own it cannot show what a model costs in false merges.
    """
    rows = [r for r in open_lrb(files.lrb) if isinstance(r, LearnerRow)]
    with files.truth.open(encoding="utf-8", newline="") as stream:
        truth = list(csv.reader(stream))
    rng = random.Random(seed)
    originals = [r for r in rows if r.mis_identifier.endswith("-org")]
    given_names = sorted({r.given_name for r in rows})
    twins: list[LearnerRow] = []
    for i, row in enumerate(rng.sample(originals, count)):
        other = rng.choice([g for g in given_names if g[:1].lower() != row.given_name[:1].lower()])
        twin_id = f"twin-{i}"
        twins.append(replace(row, line_number=0, mis_identifier=twin_id, given_name=other))
        truth.append([twin_id, twin_id, twin_id])
    lrb = files.lrb.with_name(f"{files.lrb.stem}-twins{count}.csv")
    with lrb.open("w", encoding="utf-8", newline="") as stream:
        write_lrb(stream, rows + twins, file_name=lrb.name, record_count=len(rows) + len(twins))
    truth_path = files.truth.with_name(f"{files.lrb.stem}-twins{count}-truth.csv")
    with truth_path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(truth)
    return replace(files, lrb=lrb, truth=truth_path, rows_written=len(rows) + len(twins))


# --------------------------------------------------------------------------------------------------
# Pairwise metrics (shared by both tools)

Pair = tuple[str, str]


def pairs_of(groups: Mapping[str, str]) -> set[Pair]:
    """Every pair of rows put in the same group (row id -> group id), each pair (lower id, higher id)."""
    members: dict[str, list[str]] = defaultdict(list)
    for row_id, group in groups.items():
        members[group].append(row_id)
    pairs: set[Pair] = set()
    for rows in members.values():
        rows.sort()
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                pairs.add((a, b))
    return pairs


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


@dataclass(frozen=True, slots=True)
class PairScores:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def pair_scores(truth: Mapping[str, str], predicted: Mapping[str, str]) -> PairScores:
    """Pairwise precision and recall of ``predicted`` grouping against ``truth`` (over truth's rows)."""
    true_pairs = pairs_of(truth)
    predicted_pairs = pairs_of({r: g for r, g in predicted.items() if r in truth})
    correct = len(true_pairs & predicted_pairs)
    return PairScores(
        precision=_ratio(correct, len(predicted_pairs)),
        recall=_ratio(correct, len(true_pairs)),
        true_pairs=len(true_pairs),
        predicted_pairs=len(predicted_pairs),
        correct_pairs=correct,
    )


def connected_components(nodes: Iterable[str], edges: Iterable[Pair]) -> dict[str, str]:
    """Row id -> cluster id (the smallest row id of its component)."""
    parent: dict[str, str] = {n: n for n in nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in parent}


# --------------------------------------------------------------------------------------------------
# Splink


@dataclass(frozen=True, slots=True)
class SplinkOptions:
    threshold: float = DEFAULT_THRESHOLD
    review_floor: float = DEFAULT_REVIEW_FLOOR
    u_max_pairs: float = DEFAULT_U_MAX_PAIRS
    seed: int = DEFAULT_SEED
    address: bool = True  # False: no address comparison, no town blocking (what the address is worth)
    verbose: bool = False


@dataclass(frozen=True, slots=True)
class ScoredPair:
    left: str
    right: str
    probability: float


@dataclass(slots=True)
class SplinkRun:
    rows: list[str]  # MIS identifiers in file order
    clusters: dict[str, str]  # row -> Splink cluster id (at the threshold)
    pairs: list[ScoredPair]  # every predicted pair at or above review_floor
    seconds: float
    options: SplinkOptions
    training_seconds: float = 0.0
    predict_seconds: float = 0.0
    cluster_seconds: float = 0.0
    blocked_pairs_note: str = ""
    m_u: dict[str, Any] = field(default_factory=dict)  # the trained model's prior and m/u per level


def splink_settings(address: bool = True) -> Any:
    """The Splink model: comparisons and prediction blocking rules (no ID number)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def name(column: str) -> Any:
        return cl.CustomComparison(
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column, term_frequency_adjustments=True),
                cll.DamerauLevenshteinLevel(column, 1),
                cll.JaroWinklerLevel(column, 0.92),
                cll.JaroWinklerLevel(column, 0.88),
                cll.JaroWinklerLevel(column, 0.70),
                cll.ElseLevel(),
            ],
            output_column_name=column,
        )

    address_comparison = cl.CustomComparison(
        comparison_levels=[
            cll.And(cll.NullLevel("address_line1"), cll.NullLevel("town")),
            cll.And(cll.ExactMatchLevel("address_line1"), cll.ExactMatchLevel("town")),
            cll.ExactMatchLevel("address_line1"),
            cll.And(cll.JaroWinklerLevel("address_line1", 0.9), cll.ExactMatchLevel("town")),
            cll.JaroWinklerLevel("address_line1", 0.9),
            cll.ExactMatchLevel("town"),
            cll.ElseLevel(),
        ],
        output_column_name="address",
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            name("given_name"),
            name("family_name"),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
            cl.PostcodeComparison("postcode"),
            *([address_comparison] if address else []),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("dob"),
            block_on("postcode"),
            block_on("family_name"),
            block_on("given_name"),
            *([block_on("town")] if address else []),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _splink_table(rows: Sequence[InputRow]) -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]  # a Splink dependency

    schema = pa.schema([(name, pa.string()) for name in SPLINK_COLUMNS])
    columns: dict[str, list[str | None]] = {
        "unique_id": [r.mis_identifier for r in rows],
        "given_name": [r.given_name for r in rows],
        "family_name": [r.family_name for r in rows],
        "dob": [r.dob for r in rows],
        "postcode": [r.postcode for r in rows],
        "address_line1": [r.address_line1 for r in rows],
        "town": [r.town for r in rows],
    }
    return pa.Table.from_pydict(columns, schema=schema)


def run_splink(rows: Sequence[InputRow], options: SplinkOptions = SplinkOptions()) -> SplinkRun:
    """Train, predict and cluster with Splink (DuckDB) on ``rows``; timed from loading to clusters."""
    from splink import DuckDBAPI, Linker, block_on

    ids = [r.mis_identifier for r in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("MIS identifiers must be unique: Splink uses them as unique_id")
    table = _splink_table(rows)
    level = logging.INFO if options.verbose else logging.ERROR  # its warnings: with --verbose
    logging.getLogger("splink").setLevel(level)

    started = time.perf_counter()
    db_api = DuckDBAPI()
    frame = db_api.register(table, dataset_display_name="lrb")
    linker = Linker(frame, splink_settings(options.address), log_level=level)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=options.u_max_pairs, seed=options.seed)
    for rule in (block_on("given_name", "family_name"), block_on("dob"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=options.review_floor)
    predicted = time.perf_counter()
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=options.threshold
    )
    cluster_records = clustered.as_record_list()
    finished = time.perf_counter()

    pairs = [
        ScoredPair(str(p["unique_id_l"]), str(p["unique_id_r"]), float(p["match_probability"]))
        for p in predictions.as_record_list()
    ]
    clusters = {str(c["unique_id"]): str(c["cluster_id"]) for c in cluster_records}
    model = linker.misc.save_model_to_json()
    m_u: dict[str, Any] = {
        "probability_two_random_records_match": model.get("probability_two_random_records_match"),
    }
    for comparison in model["comparisons"]:
        m_u[comparison["output_column_name"]] = [
            {
                "level": lvl.get("label_for_charts"),
                "m": lvl.get("m_probability"),
                "u": lvl.get("u_probability"),
            }
            for lvl in comparison["comparison_levels"]
            if not lvl.get("is_null_level")
        ]
    return SplinkRun(
        rows=ids,
        clusters=clusters,
        pairs=pairs,
        seconds=finished - started,
        options=options,
        training_seconds=trained - started,
        predict_seconds=predicted - trained,
        cluster_seconds=finished - predicted,
        m_u=m_u,
    )


# --------------------------------------------------------------------------------------------------
# Scoring Splink as bench.febrl scores our service


@dataclass(frozen=True, slots=True)
class ToolResult:
    tool: str
    rows: int
    precision: float  # pairs put together that are the same person / pairs put together
    recall: float  # ... / pairs of rows of the same person (review rows left apart)
    recall_with_review: float  # as if every review row were resolved correctly
    precision_with_review: float
    review_rate: float
    seconds: float
    repeat_rows: int  # rows whose person has an earlier row in the file
    first_rows_merged: int  # a person's first row linked to someone else's earlier row: a false merge
    category_rows: dict[str, int] = field(default_factory=dict)
    category_matched: dict[str, float] = field(default_factory=dict)  # share linked without review
    category_caught: dict[str, float] = field(default_factory=dict)  # ... or by a correct review
    notes: str = ""


def splink_outcomes(run: SplinkRun) -> dict[str, febrl.RowResult]:
    """Splink's clusters read as a service registering the file in order would answer, row by row.

    A row in the same cluster as an earlier row is MATCHED (its "ULN" is the cluster id); else, if its
    best pair with an earlier row has ``review_floor`` <= p < ``threshold``, it is POSSIBLE_MATCH with the
    clusters of the earlier rows in that band as candidates; else NEW. Every row keeps its cluster id as
    ``uln`` (a later row can join a review row's cluster, unlike in our service).
    """
    position = {row: i for i, row in enumerate(run.rows)}
    floor, threshold = run.options.review_floor, run.options.threshold
    best: dict[str, float] = {}
    band: dict[str, list[str]] = defaultdict(list)  # later row -> earlier rows paired in the band
    for pair in run.pairs:
        earlier, later = sorted((pair.left, pair.right), key=position.__getitem__)
        best[later] = max(best.get(later, 0.0), pair.probability)
        if floor <= pair.probability < threshold:
            band[later].append(earlier)
    clusters_seen: set[str] = set()
    out: dict[str, febrl.RowResult] = {}
    for row in run.rows:
        cluster = run.clusters.get(row, row)
        if cluster in clusters_seen:
            out[row] = febrl.RowResult("MATCHED", cluster)
        elif floor <= best.get(row, 0.0) < threshold:
            candidates = tuple(dict.fromkeys(run.clusters.get(e, e) for e in band[row]))
            out[row] = febrl.RowResult("POSSIBLE_MATCH", cluster, candidates)
        else:
            out[row] = febrl.RowResult("NEW", cluster)
        clusters_seen.add(cluster)
    return out


def splink_result(run: SplinkRun, truth: Sequence[febrl.TruthRow]) -> ToolResult:
    """Splink's figures over the rows of ``truth`` (file order), defined as bench.febrl defines ours.

    Precision and recall: Splink's clusters. With review: each review row is also linked to the earlier
    rows among its candidates that truly are the same person. Categories: bench.febrl's own walk over
    ``splink_outcomes``.
    """
    person = {t.mis_identifier: t.person for t in truth}
    rows = [r for r in run.rows if r in person]
    truth_here = {r: person[r] for r in rows}
    scores = pair_scores(truth_here, run.clusters)
    outcomes = splink_outcomes(run)
    members: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        members[run.clusters.get(row, row)].append(row)
    edges = [(members[c][0], r) for c in members for r in members[c][1:]]
    for row in rows:
        if outcomes[row].outcome == "POSSIBLE_MATCH":
            for candidate in outcomes[row].candidates:
                edges += [(row, other) for other in members[candidate] if person[other] == person[row]]
    with_review = pair_scores(truth_here, connected_components(rows, edges))
    walked = febrl.metrics([t for t in truth if t.mis_identifier in outcomes], outcomes)
    threshold = run.options.threshold
    return ToolResult(
        tool="Splink",
        rows=len(rows),
        precision=scores.precision,
        recall=scores.recall,
        recall_with_review=with_review.recall,
        precision_with_review=with_review.precision,
        review_rate=walked.review_rate,
        seconds=run.seconds,
        repeat_rows=walked.repeat.rows,
        first_rows_merged=walked.first_rows_merged,
        category_rows={o.name: o.rows for o in walked.categories},
        category_matched={o.name: o.share(o.matched) for o in walked.categories},
        category_caught={o.name: o.share(o.caught) for o in walked.categories},
        notes=(
            f"train {run.training_seconds:.1f} s, predict {run.predict_seconds:.1f} s, "
            f"cluster {run.cluster_seconds:.1f} s ({len(run.pairs):,} pairs >= {run.options.review_floor}); "
            f"threshold {threshold}, review band [{run.options.review_floor}, {threshold}), "
            f"u seed {run.options.seed}" + ("" if run.options.address else "; no address comparison")
        ),
    )


def ours_result(files: febrl.FebrlFiles, truth: Sequence[febrl.TruthRow], db_url: str | None) -> ToolResult:
    """Our service through the real batch path (bench.febrl's runner), timed from server start to results."""
    started = time.perf_counter()
    results = febrl.run_batch(files.lrb, db_url)
    seconds = time.perf_counter() - started
    m = febrl.metrics(truth, results)
    refused = sum(m.refused.values())
    return ToolResult(
        tool="ours",
        rows=m.rows,
        precision=m.precision,
        recall=m.recall_reviews_missed,
        recall_with_review=m.recall_resolved,
        precision_with_review=m.precision_resolved,
        review_rate=m.review_rate,
        seconds=seconds,
        repeat_rows=m.repeat.rows,
        first_rows_merged=m.first_rows_merged,
        category_rows={o.name: o.rows for o in m.categories},
        category_matched={o.name: o.share(o.matched) for o in m.categories},
        category_caught={o.name: o.share(o.caught) for o in m.categories},
        notes=(
            f"{m.outcomes['NEW']:,} NEW, {m.outcomes['MATCHED']:,} MATCHED, "
            f"{m.outcomes['POSSIBLE_MATCH']:,} POSSIBLE_MATCH, {refused:,} refused; "
            f"time includes server start"
        ),
    )


# --------------------------------------------------------------------------------------------------
# Output


def format_table(results: Sequence[ToolResult]) -> str:
    header = ("tool", "rows", "pairwise precision", "pairwise recall", "recall with review", "review rate")
    lines = [(*header, "time")]
    for r in results:
        cells = (
            r.tool,
            f"{r.rows:,}",
            f"{r.precision:.5f}",
            f"{r.recall:.5f}",
            f"{r.recall_with_review:.5f}",
        )
        lines.append((*cells, f"{r.review_rate:.2%}", f"{r.seconds:.1f} s"))
    out = _aligned(lines)
    if any(r.category_rows for r in results):
        out += ["", "rows whose person has an earlier row: share linked to it (auto / with review)"]
        rows: list[tuple[str, ...]] = [("category", *(f"{r.tool} (rows)" for r in results))]
        for c in febrl.CATEGORIES:
            rows.append(
                (
                    c,
                    *(_category_cell(r, c) for r in results),
                )
            )
        out += ["  " + line for line in _aligned(rows)]
    out += [""] + [
        f"{r.tool}: {r.first_rows_merged:,} first rows merged into a stranger; {r.notes}" for r in results
    ]
    return "\n".join(out)


def _category_cell(result: ToolResult, category: str) -> str:
    rows = result.category_rows.get(category, 0)
    if not rows:
        return "- (0)"
    matched, caught = result.category_matched[category], result.category_caught[category]
    return f"{matched:.1%} / {caught:.1%} ({rows:,})"


def _aligned(lines: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--dataset", type=int, choices=(1, 4), default=1, help="FEBRL dataset")
    parser.add_argument("--out-dir", type=Path, help="where the LRB and truth files go (default: a temp dir)")
    parser.add_argument("--limit", type=int, help="only the first N rows (Splink only)")
    parser.add_argument("--splink-only", action="store_true", help="skip our service")
    parser.add_argument("--postgres", help="run our service on a scratch database under this PostgreSQL URL")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="Splink clustering")
    parser.add_argument("--review-floor", type=float, default=DEFAULT_REVIEW_FLOOR)
    parser.add_argument("--u-max-pairs", type=float, default=DEFAULT_U_MAX_PAIRS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Splink's u sampling")
    parser.add_argument(
        "--no-address", action="store_true", help="Splink without the address comparison and town blocking"
    )
    parser.add_argument(
        "--twins", type=int, default=0, help="append N synthetic twins (hard negatives FEBRL lacks)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--verbose", action="store_true", help="Splink's own log")
    args = parser.parse_args(argv)
    if args.limit is not None and not args.splink_only:
        parser.error("--limit needs --splink-only (our runner registers the whole file)")
    options = SplinkOptions(
        threshold=args.threshold,
        review_floor=args.review_floor,
        u_max_pairs=args.u_max_pairs,
        seed=args.seed,
        address=not args.no_address,
        verbose=args.verbose,
    )
    with tempfile.TemporaryDirectory(prefix="compare_splink_") as scratch:
        files = febrl.convert(args.dataset, args.out_dir or Path(scratch))
        if args.twins:
            files = add_twins(files, args.twins, args.seed)
        truth = febrl.load_truth(files)
        rows = read_lrb_rows(files.lrb, args.limit)
        results: list[ToolResult] = []
        if not args.splink_only:
            results.append(ours_result(files, truth, args.postgres))
        run = run_splink(rows, options)
        results.append(splink_result(run, truth))

    if args.json:
        payload = {
            "dataset": args.dataset,
            "twins": args.twins,
            "lrb_rows": len(rows),
            "left_out_of_lrb": dict(files.left_out),
            "splink_version": _splink_version(),
            "splink_options": asdict(options),
            "splink_model": run.m_u,
            "results": [asdict(r) for r in results],
        }
        print(json.dumps(payload, indent=2))
    else:
        left_out = ", ".join(f"{n} {reason}" for reason, n in files.left_out.items()) or "none"
        print(
            f"FEBRL {args.dataset}: {files.source_rows:,} records, {len(rows):,} LRB rows"
            f"{f' ({args.twins} of them synthetic twins)' if args.twins else ''} "
            f"(left out: {left_out}); Splink {_splink_version()}"
        )
        print(format_table(results))
    return 0


def _splink_version() -> str:
    from importlib.metadata import version

    return version("splink")


if __name__ == "__main__":
    raise SystemExit(main())
