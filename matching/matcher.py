"""The probabilistic (Fellegi-Sunter) matcher: compare field by field, add log2 Bayes factors, decide.

Finding (``decide``) and verifying (``compare``) go through the same comparisons and weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from matching.blocking import blocking_keys
from matching.comparisons import (
    CLOSE_GIVEN_LEVELS,
    COMPARISONS,
    NULL,
    Context,
    Predicate,
    close_names,
    make_context,
)
from matching.config import MatcherConfig
from matching.normalise import NormalisedRecord, normalise_record
from matching.types import (
    Candidate,
    FieldComparison,
    FrequencyLookup,
    MatchDecision,
    Outcome,
    PersonRecord,
    ScoredCandidate,
)

# Fields whose exact agreement is weighed by how common the value is (term-frequency adjustment).
TF_FIELDS = ("given_name", "family_name")
# Learners per postcode district and per town: how common "the same district or town" is.
DISTRICT, TOWN = "postcode_district", "town"
_TERM_MAX = 64  # characters: the stored column's width


_ROUNDING = 1e-9  # bits: a bound summed in another order may differ from the weight in the last place
_ANY = frozenset({"*"})  # a level no comparison has: a field the review floor does not name
_UNSET = (FieldComparison("", "", 0.0),) * len(COMPARISONS)


class _Step(NamedTuple):
    """One comparison as ``_compare`` makes it, with what it reads for every candidate worked out once."""

    position: int  # in COMPARISONS, and so in the comparisons returned
    # Its levels in order, each as (the most it and the levels after it, ``otherwise`` included,
    # can weigh; its predicate; its comparison at the level's fixed weight).
    levels: tuple[tuple[float, Predicate, FieldComparison], ...]
    otherwise: FieldComparison
    tf: bool  # an exact agreement is weighed by how common the value is (TF_FIELDS)


class _Ceilings(NamedTuple):
    """The most each comparison can add, for one combination of names spelt exactly alike or not."""

    of_step: tuple[float, ...]  # in ``_steps`` order
    reachable: float  # the prior and them all
    given: float
    family: float


def _tf_value(record: NormalisedRecord, field: str) -> str:
    return record.first_given if field == "given_name" else record.family.joined


def _terms(record: NormalisedRecord) -> dict[str, str]:
    """The record's values of the term-frequency fields and of its place, those it has."""
    terms = {field: value for field in TF_FIELDS if (value := _tf_value(record, field))}
    if record.postcode is not None:
        terms[DISTRICT] = record.postcode.district
    if record.address.town:
        terms[TOWN] = _town_term(record)
    return terms


def _town_term(record: NormalisedRecord) -> str:
    return record.address.town[:_TERM_MAX]


def _given_reads(record: NormalisedRecord) -> frozenset[tuple[str, str]]:
    """The given-name counts asked of a record on either side (is this a recognised name?)."""
    names = (record.first_given, record.family.tokens[0] if record.family.tokens else "")
    return frozenset(("given_name", name) for name in names if name)


def _place_term(a: NormalisedRecord, b: NormalisedRecord) -> tuple[str, str]:
    """What two records at ``district_or_town`` share: the postcode district, else the town."""
    if a.postcode is not None and b.postcode is not None and a.postcode.district == b.postcode.district:
        return DISTRICT, a.postcode.district
    return TOWN, _town_term(a)


def probability(match_weight: float) -> float:
    """Posterior probability of a match from the total weight (log2 odds, prior included)."""
    if match_weight < -60:
        return 0.0
    return 1.0 / (1.0 + math.pow(2.0, -match_weight))


class ProbabilisticMatcher:
    """Implements the ``Matcher`` protocol. Stateless apart from the compiled configuration."""

    def __init__(self, config: MatcherConfig | None = None) -> None:
        self.config = config or MatcherConfig()
        # Load the name lists now, at start-up, not on the first call.
        self._birth_names = make_context(self.config, None).given_at_birth
        self._weights: dict[tuple[str, str], float] = {}
        for comparison in COMPARISONS:
            for level in comparison.level_names:
                self._weights[(comparison.field, level)] = (
                    0.0 if level == NULL else self.config.weight(comparison.field, level)
                )
        # The most each comparison can add: its best level, or (names) an exact agreement on a value
        # as rare as the TF floor allows. Deciding stops scoring a candidate once the fields left
        # could not lift it to the lower threshold, so the cheap fields go first and the names last.
        ceiling = {
            comparison.field: max(
                *(self._weights[(comparison.field, level)] for level in comparison.level_names),
                self._tf_ceiling(comparison.field),
            )
            for comparison in COMPARISONS
        }
        # A name that is not spelt exactly alike cannot reach "exact" (nor its term-frequency weight):
        # the most it can add is its best other level. Checking that costs one string comparison and
        # lets a candidate whose birth date and address say little be skipped before its names.
        inexact_ceiling = {
            comparison.field: max(
                self._weights[(comparison.field, level)]
                for level in comparison.level_names
                if level != "exact"
            )
            for comparison in COMPARISONS
            if comparison.field in TF_FIELDS
        }
        # Names exchanged with one also changed weigh both name fields at ``swapped_varied``; when
        # even that could not lift a pair to the floor, the (costly) check is presumed false, and
        # made only should the pair stay above the floor without it (see _compare).
        self._swap_weight = sum(self._weights[(field, "swapped_varied")] for field in TF_FIELDS)
        # Cheapest first (one equality each), then the date and address ladders, the names last.
        cost = {"gender": 0, "upn": 0, "middle_names": 0, "date_of_birth": 1, "address": 2}
        order = sorted(range(len(COMPARISONS)), key=lambda i: cost.get(COMPARISONS[i].field, 3))
        self._first_name = next(i for i in order if COMPARISONS[i].field in TF_FIELDS)
        assert all(COMPARISONS[i].field in TF_FIELDS for i in order[-len(TF_FIELDS) :])
        self._steps = tuple(self._step(index) for index in order)
        # The ceilings for each combination of names spelt exactly alike or not, read as
        # ``[given differs][family differs]``: worked out here, not copied and summed per candidate.
        self._ceilings = tuple(
            tuple(
                self._ceilings_for(ceiling, inexact_ceiling, order, given_differs, family_differs)
                for family_differs in (False, True)
            )
            for given_differs in (False, True)
        )
        # A candidate below lower_threshold can neither be shown nor, as runner-up, stop a MATCHED
        # when the best (>= upper_threshold) then leads it by more than ``margin``; with thresholds
        # closer than that, every candidate is scored in full.
        config = self.config
        exact_without = config.upper_threshold - config.lower_threshold >= config.margin
        self._decide_floor = config.lower_threshold if exact_without else -math.inf
        self._address = next(i for i, c in enumerate(COMPARISONS) if c.field == "address")
        # Candidates that ``review_floor`` may hold for review are scored in full below the floor
        # too: with a floor asking for close names, those ``close_names`` finds; with any other floor
        # every candidate (None), and with none no candidate (False).
        floor = config.review_floor
        self._review_floor_names: bool | None = bool(floor)
        if floor and not (
            floor.get("family_name", _ANY) <= {"exact"}
            and floor.get("given_name", _ANY) <= CLOSE_GIVEN_LEVELS
        ):
            self._review_floor_names = None

    def _level_ceiling(self, field: str, level: str) -> float:
        weight = self._weights[(field, level)]
        return max(weight, self._tf_ceiling(field)) if level == "exact" else weight

    def _tf_ceiling(self, field: str) -> float:
        if field not in TF_FIELDS:
            return -math.inf
        return math.log2(self.config.m(field, "exact") / self.config.tf_u_floor)

    def _step(self, index: int) -> _Step:
        """COMPARISONS[index] ready to run: its levels each with the most it and those after it (and
        ``otherwise``) can weigh, so that it stops trying levels once none left could keep the pair
        above the floor, and each level's comparison built once (every scored candidate has one a
        field)."""
        comparison = COMPARISONS[index]
        field = comparison.field

        def at_level(level: str) -> FieldComparison:
            return FieldComparison(field, level, self._weights[(field, level)])

        names = comparison.level_names
        levels = tuple(
            (max(self._level_ceiling(field, name) for name in names[i:]), level.applies, at_level(level.name))
            for i, level in enumerate(comparison.levels)
        )
        return _Step(index, levels, at_level(comparison.otherwise), field in TF_FIELDS)

    def _ceilings_for(
        self,
        ceiling: Mapping[str, float],
        inexact_ceiling: Mapping[str, float],
        order: Sequence[int],
        given_differs: bool,
        family_differs: bool,
    ) -> _Ceilings:
        by_field = dict(ceiling)
        if given_differs:
            by_field["given_name"] = inexact_ceiling["given_name"]
        if family_differs:
            by_field["family_name"] = inexact_ceiling["family_name"]
        return _Ceilings(
            tuple(by_field[COMPARISONS[i].field] for i in order),
            # Summed in COMPARISONS order (the dict's).
            self.config.prior_match_weight + sum(by_field.values()),
            by_field["given_name"],
            by_field["family_name"],
        )

    # --- storage-facing ---------------------------------------------------------------------

    def blocking_keys(self, record: PersonRecord) -> frozenset[str]:
        return blocking_keys(normalise_record(record))

    def frequency_terms(self, record: PersonRecord) -> Mapping[str, str]:
        return _terms(normalise_record(record))

    def frequency_reads(self, record: PersonRecord) -> frozenset[tuple[str, str]]:
        """Exact names and the place are weighed by the query's counts; and see
        ``candidate_frequency_reads``, which the query is asked too."""
        normalised = normalise_record(record)
        return frozenset((*_terms(normalised).items(), *_given_reads(normalised)))

    def candidate_frequency_reads(self, record: PersonRecord) -> frozenset[tuple[str, str]]:
        """``distinct_names`` and the twin levels ask whether a candidate's first given name is a
        recognised one, unless the name lists already say so (a birth name is every kind of
        recognised name). ``swapped_varied`` also asks of the first family-name token read as a given
        name, but only for the few pairs checked for exchanged names (see ``_compare``): that count
        is left to be read when asked. At 1M learners these two cuts left under a third of the candidate
        counts a registration had read, and every one it asked but two in 2,000 registrations."""
        name = normalise_record(record).first_given
        if not name or name in self._birth_names:
            return frozenset()
        return frozenset({("given_name", name)})

    # --- comparing --------------------------------------------------------------------------

    def _tf_weight(self, field: str, value: str, frequencies: FrequencyLookup, total: int) -> float:
        prior = self.config.tf_prior_learners
        u = self.config.levels[field]["exact"][1]
        share = (max(frequencies.count(field, value), 1) + prior * u) / (total + prior)
        return math.log2(self.config.m(field, "exact") / max(share, self.config.tf_u_floor))

    def _place_weight(self, term: tuple[str, str], frequencies: FrequencyLookup, total: int) -> float:
        """``district_or_town`` weighed by how many learners live there: a city holding one learner
        in ten says less about a stranger than the level's u (one in 200) says. Never more than
        the level's own weight (a small place is not made stronger evidence), nor less than the
        wider ``area``'s (a registry of one city is not told that living there counts against)."""
        m, u = self.config.levels["address"]["district_or_town"]
        share = frequencies.count(*term) / total
        return max(math.log2(m / max(share, u)), self._weights[("address", "area")])

    def _compare(
        self,
        a: NormalisedRecord,
        b: NormalisedRecord,
        ctx: Context,
        total: int,
        floor: float = -math.inf,
        presume_no_swap: bool = True,
    ) -> tuple[FieldComparison, ...] | None:
        """Each comparison's level and weight, in COMPARISONS order; None as soon as the pair cannot
        reach ``floor`` bits (prior included) whatever the comparisons not yet made find. ``total``:
        the registry's learners (0 without frequencies), read once by the caller."""
        frequencies = ctx.frequencies
        use_tf = frequencies is not None and total >= self.config.tf_min_total
        found: list[FieldComparison] = list(_UNSET)
        ceilings = self._ceilings[a.given.joined != b.given.joined][a.family.joined != b.family.joined]
        reachable = ceilings.reachable
        limit = floor - _ROUNDING
        presumed = False
        for (index, levels, otherwise, tf), ceiling in zip(self._steps, ceilings.of_step, strict=True):
            if presume_no_swap and index == self._first_name:
                # The names come last: every other field is weighed. Were the names exchanged and
                # varied, the pair would still fall short, so ``swapped_varied`` is taken as false.
                rest = reachable - ceilings.given - ceilings.family
                if rest + self._swap_weight < limit:
                    ctx.last_swap[:] = [(a, b, False)]
                    presumed = True
            # The first level that applies (``Comparison.level``), walked here, not in a method call:
            # this runs for every field of every candidate. The pair is dropped at the first level
            # from which no level left (``otherwise`` included) could weigh ``need`` bits, so the
            # costlier predicates further down are never asked.
            need = limit - (reachable - ceiling)
            for best, applies, at_level in levels:
                if best < need:
                    if presumed:  # an answer presumed for the swap check is not left for other pairs
                        ctx.last_swap.clear()
                    return None
                if applies(a, b, ctx):
                    reached = at_level
                    break
            else:
                reached = otherwise
            if tf and use_tf and reached.level == "exact":
                assert frequencies is not None
                field = reached.field
                weight = self._tf_weight(field, _tf_value(a, field), frequencies, total)
                found[index] = FieldComparison(field, reached.level, weight)
            else:
                found[index] = reached
                weight = reached.weight
            reachable += weight - ceiling
            if reachable < limit:
                if presumed:
                    ctx.last_swap.clear()
                return None
        if presumed:
            # Above the floor without the swap check: make it, and weigh the names again.
            ctx.last_swap.clear()
            return self._compare(a, b, ctx, total, floor, presume_no_swap=False)
        given, family = found[0], found[1]
        if use_tf and family.level == "exact" and given.weight > 0:
            penalty = self._name_dependence(total)
            if penalty > 0:
                found[1] = FieldComparison(family.field, family.level, family.weight - penalty)
        return tuple(found)

    def _name_dependence(self, total: int) -> float:
        """Bits taken off an exact family name's TF weight when the given name agrees too.

        Names are correlated (origin), so strangers share a full name more often than the product of
        the two shares says. The fixed prior is exact for 2^-prior learners and already too strict by
        log2(that / total) bits in a smaller registry (only the remainder is applied) and too lenient
        in a larger one (the shortfall is added)."""
        slack = -self.config.prior_match_weight - math.log2(max(total, 1))
        return self.config.tf_name_dependence - self.config.tf_prior_slack_credit * slack

    def compare(
        self, a: PersonRecord, b: PersonRecord, frequencies: FrequencyLookup | None = None
    ) -> ScoredCandidate:
        """Score one pair (verification: "is this learner the person described?"). candidate_id is 0."""
        total = frequencies.total() if frequencies is not None else 0
        ctx = make_context(self.config, frequencies)
        x, y = normalise_record(a), normalise_record(b)
        comparisons = self._compare(x, y, ctx, total)
        assert comparisons is not None  # no floor
        return self._scored(0, x, y, comparisons, ctx, total)

    def _scored(
        self,
        candidate_id: int,
        a: NormalisedRecord,
        b: NormalisedRecord,
        comparisons: tuple[FieldComparison, ...],
        ctx: Context,
        total: int,
    ) -> ScoredCandidate:
        """A pair's score from its comparisons (``_compare``'s, made without a floor or reaching it)."""
        weight = self.config.prior_match_weight + sum([c.weight for c in comparisons])
        doubt = self._place_doubt(a, b, comparisons[self._address], ctx, total)
        return ScoredCandidate(candidate_id, weight, probability(weight), comparisons, doubt)

    def _place_doubt(
        self, a: NormalisedRecord, b: NormalisedRecord, address: FieldComparison, ctx: Context, total: int
    ) -> float:
        """How much less ``district_or_town`` is worth than its level's weight where the place is
        common (see ``_place_weight``): 0 elsewhere, and below ``tf_min_total`` learners."""
        frequencies = ctx.frequencies
        if address.level != "district_or_town" or frequencies is None:
            return 0.0
        if total < self.config.tf_min_total:
            return 0.0
        return address.weight - self._place_weight(_place_term(a, b), frequencies, total)

    def score(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> tuple[ScoredCandidate, ...]:
        return self._score(query, candidates, frequencies, -math.inf)

    def _score(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None,
        floor: float,
    ) -> tuple[ScoredCandidate, ...]:
        ctx = make_context(self.config, frequencies)
        # Read once for all the candidates, and not at all without one (a lookup may query for it).
        total = frequencies.total() if frequencies is not None and candidates else 0
        a = normalise_record(query)
        scored = []
        for candidate in candidates:
            b = normalise_record(candidate.record)
            comparisons = self._compare(a, b, ctx, total, floor)
            if comparisons is None and self._may_reach_review_floor(a, b, ctx):
                comparisons = self._compare(a, b, ctx, total)
            if comparisons is not None:  # most candidates are dropped below the floor
                scored.append(self._scored(candidate.id, a, b, comparisons, ctx, total))
        scored.sort(key=lambda s: (-s.match_weight, s.candidate_id))
        return tuple(scored)

    # --- deciding ---------------------------------------------------------------------------

    def decide(
        self,
        query: PersonRecord,
        candidates: Sequence[Candidate],
        frequencies: FrequencyLookup | None = None,
    ) -> MatchDecision:
        """The decision on every candidate, though only candidates that may reach the lower threshold
        are scored in full (see ``_decide_floor``): the outcome and the candidates shown are the same
        as ``decide_scored(score(...))``."""
        return self.decide_scored(self._score(query, candidates, frequencies, self._decide_floor))

    def decide_scored(self, scored: Sequence[ScoredCandidate]) -> MatchDecision:
        """The threshold rules, on candidates already scored best first.

        A learner may come with several records (the registry answers a merged duplicate's record
        with its master): it counts once, with its best record, so that a second record of the same
        person is never the runner-up that holds back a MATCHED."""
        config = self.config
        if len({s.candidate_id for s in scored}) < len(scored):
            per_learner: dict[int, ScoredCandidate] = {}
            for s in scored:
                per_learner.setdefault(s.candidate_id, s)
            scored = tuple(per_learner.values())
        shown = tuple(
            s for s in scored if s.match_weight >= config.lower_threshold or self._held_for_review(s)
        )
        if not shown:
            return MatchDecision(Outcome.NEW, None, ())
        best = shown[0]
        levels = {(c.field, c.level) for c in best.comparisons}
        lookalike = not levels.isdisjoint(config.lookalike_levels)
        runner_up = scored[1].match_weight if len(scored) > 1 else -math.inf
        sure = best.match_weight - best.doubt
        upper = config.upper_threshold
        if not levels.isdisjoint(config.unplaced_levels) or (
            not levels.isdisjoint(config.nearby_levels) and not levels.isdisjoint(config.inexact_date_levels)
        ):
            upper = max(upper, config.unplaced_upper_threshold)
        # Exactly one candidate above the upper threshold, clearly ahead of the next; else never auto-link.
        if (
            runner_up < config.upper_threshold
            and upper <= sure
            and sure - runner_up >= config.margin
            and levels.isdisjoint(config.review_only)
            and not self._sibling_at_home(levels)
        ):
            return MatchDecision(Outcome.MATCHED, best.candidate_id, shown, lookalike)
        return MatchDecision(Outcome.POSSIBLE_MATCH, None, shown, lookalike)

    def _held_for_review(self, scored: ScoredCandidate) -> bool:
        """Every field of ``MatcherConfig.review_floor`` at one of its levels there."""
        floor = self.config.review_floor
        reached = sum(1 for c in scored.comparisons if c.level in floor.get(c.field, ()))
        return bool(floor) and reached == len(floor)

    def _may_reach_review_floor(self, a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
        """Whether a pair dropped below the floor could still be ``_held_for_review``."""
        if self._review_floor_names is not True:
            return self._review_floor_names is None
        return close_names(a, b, ctx)

    def _sibling_at_home(self, levels: AbstractSet[tuple[str, str]]) -> bool:
        """A brother or sister at one house (``MatcherConfig.household_levels``): another form of the
        given name with a birth date close to it, or a date two keystrokes and a year away without a
        middle name in common."""
        config = self.config
        if levels.isdisjoint(config.household_levels):
            return False
        renamed = not (
            levels.isdisjoint(config.other_name_levels) or levels.isdisjoint(config.inexact_date_levels)
        )
        years_apart = (
            not levels.isdisjoint(config.household_dates) and ("middle_names", "agree") not in levels
        )
        return renamed or years_apart


def default_matcher(config: MatcherConfig | None = None) -> ProbabilisticMatcher:
    return ProbabilisticMatcher(config)
