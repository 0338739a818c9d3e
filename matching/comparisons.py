"""Field comparisons as ordered lists of small, named levels (splink style): the first that applies wins.

Each level is a predicate over two normalised records. The level names are what the server shows a
reviewer, and what the m/u table in ``config.py`` is keyed by. ``null`` levels carry no evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from matching.address import Address
from matching.config import MatcherConfig
from matching.names import (
    VariantGroups,
    birth_names,
    family_name_variants,
    given_name_variants,
    known_given_names,
    real_given_names,
)
from matching.normalise import NormalisedRecord, exchange_names
from matching.types import FrequencyLookup

NULL = "null"
ELSE = "else"


# (id of a configuration, id of a comparison) -> (that configuration, levels, positive level names).
# The configuration is held, and compared by identity on each read, so a freed configuration's id
# reused by another never answers for it. Comparisons are module constants.
_AGREEING: dict[tuple[int, int], tuple[MatcherConfig, tuple[Level, ...], frozenset[str]]] = {}


@dataclass(frozen=True, slots=True)
class Context:
    """What a predicate may consult besides the two records."""

    config: MatcherConfig
    frequencies: FrequencyLookup | None
    given_variants: VariantGroups
    family_variants: VariantGroups
    known_given: frozenset[str]
    given_at_birth: frozenset[str]
    given_anywhere: frozenset[str]
    # The last pair swapped_varied read and its answer: the given- and family-name comparisons of
    # one pair both ask, and the answer costs four comparisons. The records are held, not their
    # ids, so a freed record's id can never be mistaken for the pair.
    last_swap: list[tuple[NormalisedRecord, NormalisedRecord, bool]] = field(default_factory=list)
    # Records read with their names exchanged, by the record's id (the record is held with it, so
    # its id is not reused while the context lives): the query's is asked once per candidate.
    _exchanged: dict[int, tuple[NormalisedRecord, NormalisedRecord]] = field(default_factory=dict)

    def agreeing_levels(self, comparison: Comparison) -> tuple[tuple[Level, ...], frozenset[str]]:
        """The comparison's levels up to the last that weighs for a match, and the names of those that
        do (``_agrees``): worked out once per configuration, not per context (one a registration)."""
        key = (id(self.config), id(comparison))
        found = _AGREEING.get(key)
        if found is None or found[0] is not self.config:
            weight = self.config.weight
            names = (*(level.name for level in comparison.levels), comparison.otherwise)
            positive = frozenset(n for n in names if n != NULL and weight(comparison.field, n) > 0)
            tried = [i for i, level in enumerate(comparison.levels) if level.name in positive]
            stop = len(comparison.levels) if comparison.otherwise in positive else max(tried, default=-1) + 1
            found = _AGREEING[key] = (self.config, comparison.levels[:stop], positive)
        return found[1], found[2]

    def exchanged(self, record: NormalisedRecord) -> NormalisedRecord:
        found = self._exchanged.get(id(record))
        if found is None:
            found = self._exchanged[id(record)] = (record, exchange_names(record))
        return found[1]

    def is_known_given_name(self, name: str) -> bool:
        """A name someone is called: listed anywhere, or carried by a few registered learners."""
        return name in self.known_given or self._registered_often(name)

    def is_birth_name(self, name: str) -> bool:
        """A name parents give (not only a nickname list's entry), or carried by a few learners."""
        return name in self.given_at_birth or self._registered_often(name)

    def is_real_given_name(self, name: str) -> bool:
        """A name in the dictionary of first names, a birth name, or carried by a few learners."""
        return name in self.given_anywhere or self._registered_often(name)

    def _registered_often(self, name: str) -> bool:
        return (
            self.frequencies is not None
            and self.frequencies.count("given_name", name) >= self.config.known_name_min_count
        )


Predicate = Callable[[NormalisedRecord, NormalisedRecord, Context], bool]


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    applies: Predicate


@dataclass(frozen=True, slots=True)
class Comparison:
    """One field's ordered levels; ``otherwise`` is implied after the last."""

    field: str
    levels: tuple[Level, ...]
    otherwise: str = ELSE

    def level(self, a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> str:
        for level in self.levels:
            if level.applies(a, b, ctx):
                return level.name
        return self.otherwise

    @property
    def level_names(self) -> tuple[str, ...]:
        return (*(level.name for level in self.levels), self.otherwise)


# Jaro-Winkler similarity (0..1), rapidfuzz's own function: no wrapper call on the way.
_jw = JaroWinkler.similarity
# Edits apart: insertions, deletions, substitutions and transpositions of adjacent letters, the
# unrestricted Damerau-Levenshtein distance (a letter may be edited after a transposition: CA / ABC
# is 2). rapidfuzz's gives jellyfish's distance (tests/matching/test_edit_distance.py) at a fifth
# of the cost, and a candidate's names and dates ask it a dozen times a decide.
_edits = DamerauLevenshtein.distance


def _may_be_swapped(a: NormalisedRecord, b: NormalisedRecord) -> bool:
    """Both names on both sides, and different family names (twins and siblings share theirs)."""
    # The joined strings, not the Names: a Name's truth is a Python call (``Name.__bool__``).
    return (
        bool(a.given.joined and a.family.joined and b.given.joined and b.family.joined)
        and a.family.joined != b.family.joined
    )


def _swapped(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Given and family names exchanged, both exactly (neither side empty).

    Exact only: the level weighs +10 bits per field. Two close-but-different names across (Khalid
    Yousef / Youssef Khalil, JW >= 0.92 both ways) were merged as a swap at seed 1; they are weighed
    as ``swapped_varied`` instead."""
    # The two equalities first: they fail for nearly every pair, at no call.
    return a.given.joined == b.family.joined and a.family.joined == b.given.joined and _may_be_swapped(a, b)


def _agrees(comparison: Comparison, a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The field reaches a level that is evidence *for* a match (positive weight).

    The levels after the last positive one are not tried: whichever of them applied, the answer
    would be no (this runs for every candidate whose names might be swapped)."""
    levels, positive = ctx.agreeing_levels(comparison)
    for level in levels:
        if level.applies(a, b, ctx):
            return level.name in positive
    return comparison.otherwise in positive  # reached only when every level was tried


def _swapped_varied(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Given and family names exchanged, and one of them also changed (Dylan Killooly / Killooly Dilan).

    Read one record with its names the other way round; both names must then agree at a positive level
    of their own comparison (nickname, typo, transliteration, previous or double-barrelled family name).
    Twins and siblings share the family name, which rules this level out for them."""
    if not _may_be_swapped(a, b) or a.given.joined == b.given.joined:
        return False
    for seen_a, seen_b, found in ctx.last_swap:
        if seen_a is a and seen_b is b:
            return found
    found = _exchanged_names_agree(a, b, ctx)
    ctx.last_swap[:] = [(a, b, found)]
    return found


def _exchanged_names_agree(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    for x, y in ((ctx.exchanged(a), b), (a, ctx.exchanged(b))):
        # Family first: it is decided from the two strings alone and fails for nearly every
        # candidate, while the given-name levels may ask the register how common a name is.
        if _agrees(_FAMILY_DIRECT, x, y, ctx) and _agrees(_GIVEN_DIRECT, x, y, ctx):
            return True
    return False


def _name_comparisons(
    field: str, null: Predicate, exact: Predicate, after_swaps: tuple[Level, ...]
) -> tuple[Comparison, Comparison]:
    """A name field's comparison as written (what ``swapped_varied`` reads across, so it has no
    swapped levels of its own) and its full comparison: null, exact, the two swapped levels, the rest."""
    direct = (Level(NULL, null), Level("exact", exact))
    swaps = (Level("swapped", _swapped), Level("swapped_varied", _swapped_varied))
    return Comparison(field, (*direct, *after_swaps)), Comparison(field, (*direct, *swaps, *after_swaps))


# --- given name -------------------------------------------------------------------------------


def _given_null(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return not a.first_given or not b.first_given


def _given_exact(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.given.joined == b.given.joined


def _opposite_sexes(a: NormalisedRecord, b: NormalisedRecord) -> bool:
    return a.gender is not None and b.gender is not None and a.gender != b.gender


def _given_alternate(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """One side's given name is the other's middle, second or preferred name, or its first part.

    Mary / Mary-Anne, or James Robert / Robert. Not across a recorded sex difference (see nickname)."""
    if _opposite_sexes(a, b):
        return False
    if a.given.joined == b.first_given or b.given.joined == a.first_given:
        return True
    if not (a.first_given in b.other_given or b.first_given in a.other_given):
        return False
    return not (_half_crossed(a, b) and _as_twins(a, b, ctx))


def _half_crossed(a: NormalisedRecord, b: NormalisedRecord) -> bool:
    """Both give middle names, and one side's first name is among the other's names while the other's
    first name is nowhere on this side: Alfie Archie / Luke Alfie-Jay, not a swap (James Robert /
    Robert James). On twins' records, two children (``twin_names``)."""
    if not (a.middle and b.middle):
        return False
    return (a.first_given in b.other_given) != (b.first_given in a.other_given)


def _given_nickname(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Listed variants (Bill / William), unless the records give opposite sexes.

    Opposite-sex twins are often given forms of one name (Sam / Samantha, Alex / Alexandra, Jamie-Lee /
    James); with family name, birth date and address shared, only the given name and sex tell them
    apart, and the sex conflict alone (-4.6) cannot outweigh the rest. The pair then falls through to
    distinct_names. A re-registration with both a nickname and a mis-recorded sex is far rarer."""
    if _opposite_sexes(a, b):
        return False
    variants = ctx.given_variants
    return variants.are_variants(a.first_given, b.first_given) or variants.are_variants(
        a.given.joined, b.given.joined
    )


def _given_jw_high(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return _jw(a.given.joined, b.given.joined) >= ctx.config.jaro_winkler_high


def _given_distinct(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two different, recognised given names more than a couple of letters apart (Harry / Thomas):
    how siblings and twins differ. Recognised names a letter or two apart (Karl / Karla, May /
    Maya) are also how a name is mistyped: outside the twins' signature (``twin_names``) they are
    weighed as the misspelling they may be, and a sibling is told apart by the birth date."""
    x, y = a.first_given, b.first_given
    if x == y:
        # One name's first part across a recorded sex difference (Jamie-Lee / Jamie), which the
        # alternate_name level would otherwise have taken.
        return a.given.joined != b.given.joined
    return (
        ctx.is_known_given_name(x)
        and ctx.is_known_given_name(y)
        and _edits(x, y) > ctx.config.misspelling_max_edits
    )


def _given_one_keystroke(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """One letter wrong, missing, extra or two swapped, in names of three letters or more (Amy /
    Amh, Leo / Lep): Jaro-Winkler scores short names too low to see it."""
    x, y = a.first_given, b.first_given
    return min(len(x), len(y)) >= 3 and _edits(x, y) == 1


def _given_phonetic(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return bool(a.given_phonetic) and a.given_phonetic == b.given_phonetic


def _given_jw_mid(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Similar, and no more than ``misspelling_max_edits`` letters apart.

    Jaro-Winkler rewards a shared prefix, so a short name and a longer one that starts with it (Meg /
    Meghan) reach this tier: that is another name, not a misspelling, and with family name, birth date
    and address shared (twins) the tier's mild weight let it through."""
    x, y = a.given.joined, b.given.joined
    return _jw(x, y) >= ctx.config.jaro_winkler_mid and _edits(x, y) <= ctx.config.misspelling_max_edits


def _given_two_typos(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Names of 3+ letters at most ``misspelling_max_edits`` apart that no tier above reads as one
    name (Blake / Blaw, James / Jaemo: two keystrokes in a short name put Jaro-Winkler below its
    tiers). Two typos, or two children's names no dictionary knows: never MATCHED
    (``review_only``), but not the hard negative of ``else`` that gave the pupil a second ULN."""
    x, y = a.given.joined, b.given.joined
    return min(len(x), len(y)) >= 3 and _edits(x, y) <= ctx.config.misspelling_max_edits


def _given_short_form(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """One first name of 3+ letters the start of another 3+ letters longer (Sid / Siddharth, Abdi / Abdikarim,
    Funmi / Funmilayo): the short form a pupil goes by, of a name the nickname lists do not hold.
    Not across a recorded sex difference (Ali / Alisha twins). Never MATCHED (``review_only``):
    without a list saying so, it may as well be two children's names."""
    x, y = a.first_given, b.first_given
    short, long = (x, y) if len(x) < len(y) else (y, x)
    return (
        len(short) >= 3
        # A name cut short by a letter or two is a typo, for the fuzzy levels (Jessica / Jessic).
        and len(long) - len(short) > ctx.config.misspelling_max_edits
        and long.startswith(short)
        and not _opposite_sexes(a, b)
    )


def _given_shared_stem(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """A pet form no list holds, built from the name's own letters: a short name (3-5 letters)
    that begins as a longer one does, by three letters at least (Gabi / Gabriela, Tomek / Tomasz,
    Finn / Finlay, Zuzia / Zuzanna), or a name of 4+ letters that is the end of a longer one (Kemi /
    Oluwakemi, Amaka / Chiamaka: Yoruba and Igbo names are shortened from the front). Not across a
    recorded sex difference. Never MATCHED (``review_only``): brothers and sisters are given names
    that begin alike too (Jack / Jacob), so a reviewer decides."""
    x, y = a.first_given, b.first_given
    short, long = (x, y) if len(x) < len(y) else (y, x)
    if len(short) < 3 or len(long) == len(short) or _opposite_sexes(a, b):
        return False
    if len(short) <= 5 and long[:3] == short[:3]:
        # Names a keystroke or two apart are read as a typo by the fuzzy levels (Sara / Sarah).
        return _edits(x, y) > ctx.config.misspelling_max_edits
    return len(short) >= 4 and len(long) - len(short) >= 3 and long.endswith(short)


@lru_cache(maxsize=32_768)
def spelling_skeleton(name: str) -> str:
    """A name with its doubled letters single: Connor and Conor, Phillip and Philip, Lilly and Lily,
    Callum and Calum share one. Endings are left alone: Kerry and Kerrie, Isla and Islay, Amelia and
    Amelie are names twins are given (the synthetic twins include Kerry / Kerrie)."""
    return "".join(c for i, c in enumerate(name) if i == 0 or c != name[i - 1])


def _given_spelling(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two spellings of one name (Conor / Connor), unless the records give opposite sexes.

    Before distinct_names: both spellings are recognised names, and without this level a pupil
    re-registered as Connor rather than Conor was held apart as firmly as a twin, and got a second
    ULN. No parent names twins Conor and Connor; the skeleton is strict enough that names twins do
    get (Isla / Islay, Amelia / Amelie) stay distinct."""
    x, y = a.first_given, b.first_given
    return x != y and not _opposite_sexes(a, b) and spelling_skeleton(x) == spelling_skeleton(y)


def _given_initial(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    x, y = a.first_given, b.first_given
    return (len(x) == 1 or len(y) == 1) and x[0] == y[0]


def _dates_as_twins(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same birth date, or one a keystroke or a day away (twins born either side of midnight, or
    one twin's date mistyped)."""
    return a.dob == b.dob or _dob_swapped(a, b, ctx) or _dob_one_off(a, b, ctx)


def _of_one_family(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The family name agrees, or they live at one house (a child whose family name changed still
    shares the house)."""
    return _agrees(_FAMILY_DIRECT, a, b, ctx) or _address_same(a, b, ctx) or _address_unit(a, b, ctx)


def _as_twins(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Born as twins are, and of one family."""
    return _dates_as_twins(a, b, ctx) and _of_one_family(a, b, ctx)


def _rhyme(x: str, y: str) -> bool:
    """Names of 3+ letters that differ only in their first letter, or by a letter before it (Riya /
    Priya, Ella / Bella, Harry / Larry): how twins are named, whether or not a dictionary holds both,
    and not how names are mistyped (a name's first letter is the one least often wrong)."""
    if min(len(x), len(y)) < 3:
        return False
    return x[1:] == y or y[1:] == x or (x[0] != y[0] and x[1:] == y[1:])


def _given_twin_names(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two different given names that could both be names a child is given, one or two letters
    apart (Ella / Ellie, Leo / Leon, Amalia / Amelia, Kai / Kaia, Omar / Amar), on records born as
    twins are and of one family: the signature of twins (forms of one birth name are ``name_forms``).

    Family name, birth date, address and sex together outweigh anything a given name can say short
    of a hard negative, so such a pair is never MATCHED (``MatcherConfig.review_only``): a reviewer
    decides. Not the signature: two spellings of one name (Conor / Connor), a typo that makes no
    name (Amy / Amh), a diminutive that is not itself a birth name (Seb / Sebastian), middle-name
    use."""
    x, y = a.first_given, b.first_given
    most = ctx.config.misspelling_max_edits
    if _half_crossed(a, b) and _as_twins(a, b, ctx):
        return True
    if _rhyme(x, y) and _of_one_family(a, b, ctx):
        # Rhyming names are given to brothers and sisters as well as twins (Darius / Marius).
        return True
    if x != y and _opposite_sexes(a, b):
        # A boy and a girl of one family born together are given related names that no dictionary
        # may hold (Oliwer / Oliwia, Zihan / Zi Xuan): a close name with the sexes disagreeing is
        # their signature however the names are spelt. (Harry / Sophie, and Jamie-Lee / Jamie,
        # are distinct_names.)
        close = _edits(x, y) <= most or _edits(a.given.joined, b.given.joined) <= most
        if close and _as_twins(a, b, ctx):
            return True
    if x == y:
        return False
    close = _edits(x, y) <= most
    if close and spelling_skeleton(x) == spelling_skeleton(y):
        return False
    if not close or _short_form_of(x, y, ctx):
        return False
    names = (ctx.is_real_given_name(x) and ctx.is_real_given_name(y)) or _rhyme(x, y)
    return names and _as_twins(a, b, ctx)


def _short_form_of(x: str, y: str, ctx: Context) -> bool:
    """Listed forms of one name of which one is not itself a birth name (Josh / Joshua, Lexi /
    Alexis): a pupil's short form, which parents do not give one twin beside the other's full name
    (a nickname, as Seb / Sebastian is). Ella / Ellie, Leo / Leon, both birth names, are how twins
    are named."""
    return ctx.given_variants.are_variants(x, y) and not (ctx.is_birth_name(x) and ctx.is_birth_name(y))


def _given_name_forms(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two birth names that are forms of one another (William / Billy, Thomas / Tommy, Alfred / Alfie)
    on records born as twins are and of one family: one pupil going by the short form far more often
    than twins given both, but a reviewer decides (never MATCHED). Not a look-alike: a school that
    changes its own row from William to Billy is describing the same pupil. Not across a recorded sex
    difference (Sam / Samantha twins: ``twin_names`` or ``distinct_names``)."""
    x, y = a.first_given, b.first_given
    return (
        x != y
        and not _opposite_sexes(a, b)
        # Forms a letter or two apart that are both birth names (Ella / Ellie) are twin_names.
        and _edits(x, y) > ctx.config.misspelling_max_edits
        and ctx.is_birth_name(x)
        and ctx.is_birth_name(y)
        and ctx.given_variants.are_variants(x, y)
        and _as_twins(a, b, ctx)
    )


def _given_name_part(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """On records born as twins are and of one family, one first name is a later part of the other's
    names: of a given name of several parts (Hui / Jia Hui) or of middle names of several parts (Lily /
    Lola Lily-Mae). A pupil going by part of a name, or twins named from one another: issue 11 lets
    only a whole middle name used, not a part, match on twins' records, so a reviewer decides."""
    for x, y in ((a, b), (b, a)):
        name = x.first_given
        if name == y.first_given:
            continue
        in_given = len(y.given.tokens) > 1 and name in y.given.tokens[1:]
        in_middle = len(y.middle) > 1 and name in y.middle
        if (in_given or in_middle) and _as_twins(a, b, ctx):
            return True
    return False


_GIVEN_AFTER_SWAPS = (
    Level("name_part", _given_name_part),
    Level("alternate_name", _given_alternate),
    Level("twin_names", _given_twin_names),
    Level("name_forms", _given_name_forms),
    Level("nickname", _given_nickname),
    Level("initial", _given_initial),
    Level("spelling_variant", _given_spelling),
    # Before distinct_names: the registry's counts soon know a short form (Sid) and its name
    # (Siddharth) both as names, and then read them as two children.
    Level("short_form", _given_short_form),
    Level("shared_stem", _given_shared_stem),
    # Before the fuzzy levels: twins are often given similar names (Isla / Islay, Cian / Ciaran).
    Level("distinct_names", _given_distinct),
    Level("jaro_winkler_high", _given_jw_high),
    Level("one_keystroke", _given_one_keystroke),
    Level("phonetic", _given_phonetic),
    Level("jaro_winkler_mid", _given_jw_mid),
    Level("two_typos", _given_two_typos),
)
_GIVEN_DIRECT, GIVEN_NAME = _name_comparisons("given_name", _given_null, _given_exact, _GIVEN_AFTER_SWAPS)


# --- family name ------------------------------------------------------------------------------


def _family_null(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return not a.family.joined or not b.family.joined


def _family_exact(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.family.joined == b.family.joined


def _family_previous(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """A current or previous family name of one side is a (current or previous) family name of the other."""
    if not (a.previous_families or b.previous_families):  # nearly every pair
        return a.family.joined == b.family.joined
    names_a = {a.family.joined, *(p.joined for p in a.previous_families)}
    names_b = {b.family.joined, *(p.joined for p in b.previous_families)}
    return not names_a.isdisjoint(names_b)


def _family_double_barrelled(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Smith-Jones / Smith: the shorter name is one part of the longer (tokens of 2+ letters)."""
    if len(a.family.tokens) < 2 and len(b.family.tokens) < 2:  # neither name has two parts
        return False
    tokens_a = {t for t in a.family.tokens if len(t) > 1}
    tokens_b = {t for t in b.family.tokens if len(t) > 1}
    if len(tokens_a) < 2 and len(tokens_b) < 2:
        return False
    return not tokens_a.isdisjoint(tokens_b)


def _family_variant(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return ctx.family_variants.are_variants(a.family.joined, b.family.joined)


def _family_jw_high(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return _jw(a.family.joined, b.family.joined) >= ctx.config.jaro_winkler_high


def _family_phonetic(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return bool(a.family_phonetic) and a.family_phonetic == b.family_phonetic


def _family_jw_mid(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return _jw(a.family.joined, b.family.joined) >= ctx.config.jaro_winkler_mid


_FAMILY_AFTER_SWAPS = (
    Level("previous_name", _family_previous),
    Level("double_barrelled", _family_double_barrelled),
    Level("variant", _family_variant),
    Level("jaro_winkler_high", _family_jw_high),
    Level("phonetic", _family_phonetic),
    Level("jaro_winkler_mid", _family_jw_mid),
)
_FAMILY_DIRECT, FAMILY_NAME = _name_comparisons(
    "family_name", _family_null, _family_exact, _FAMILY_AFTER_SWAPS
)


# --- both names, at a glance -------------------------------------------------------------------

# The given-name levels ``close_names`` answers for.
CLOSE_GIVEN_LEVELS = frozenset({"exact", "jaro_winkler_high", "one_keystroke"})


def close_names(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """True whenever the family name can be at "exact" and the given name at one of
    ``CLOSE_GIVEN_LEVELS``: their own predicates, without the ladders' earlier levels (swaps,
    variants), which may take the pair first. For the matcher's review floor, asked of candidates
    already dropped below the lower threshold."""
    return (
        bool(a.family.joined)
        and _family_exact(a, b, ctx)
        and (_given_exact(a, b, ctx) or _given_jw_high(a, b, ctx) or _given_one_keystroke(a, b, ctx))
    )


# --- date of birth ----------------------------------------------------------------------------


def _dob_exact(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.dob == b.dob


def _dob_swapped(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.dob.year == b.dob.year and a.dob.month == b.dob.day and a.dob.day == b.dob.month


def _dob_one_off(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """One digit mistyped or two adjacent digits transposed in yyyymmdd, or one day apart.

    A mistyped decade digit moves a date by ten years, but never by a generation (parent and child)."""
    days = abs((a.dob - b.dob).days)
    if days == 1:
        return True
    return days < 11 * 366 and _edits(a.dob_digits, b.dob_digits) == 1


def _dob_year_off(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return (a.dob.month, a.dob.day) == (b.dob.month, b.dob.day) and abs(a.dob.year - b.dob.year) <= 3


def _dob_within_month(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Up to a month apart (a date copied from the wrong row, a late registration's guess)."""
    return abs((a.dob - b.dob).days) <= 31


def _dob_two_digits(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two keystrokes apart in yyyymmdd (two digits mistyped, or a typo and a transposition)."""
    return (
        abs(a.dob.year - b.dob.year) <= ctx.config.different_date_max_years
        and _edits(a.dob_digits, b.dob_digits) <= 2
    )


def _dob_different(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Wholly different dates, but close enough in age to be one learner entered wrongly.

    Further apart than ``different_date_max_years`` (12) is a generation: a parent who shares the
    pupil's name and address (``else``, a hard negative)."""
    return abs((a.dob - b.dob).days) <= ctx.config.different_date_max_years * 365.25


def _dob_two_digits_years(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two keystrokes apart, one of them in the year (2010-05-06 / 2012-05-02)."""
    return a.dob.year != b.dob.year and _dob_two_digits(a, b, ctx)


DATE_OF_BIRTH = Comparison(
    "date_of_birth",
    (
        Level("exact", _dob_exact),
        Level("day_month_swapped", _dob_swapped),
        Level("one_off", _dob_one_off),
        Level("year_off", _dob_year_off),
        Level("within_month", _dob_within_month),
        Level("two_digits_years", _dob_two_digits_years),
        Level("two_digits", _dob_two_digits),
        Level("different_date", _dob_different),
    ),
)


# --- postcode and gender ----------------------------------------------------------------------


# The address levels run, most of them, for nearly every candidate (a stranger's address reaches
# ``else`` through all nine), so they test the postcode parts in line rather than through a
# helper a part: a call costs more than the test.


def _same_sector(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    pa, pb = a.postcode, b.postcode
    return pa is not None and pb is not None and pa.sector == pb.sector


def _address_null(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Nothing about where they live can be compared: no postcode, street or town on both sides."""
    x, y = a.address, b.address
    return (
        (a.postcode is None or b.postcode is None) and not (x.street and y.street) and not (x.town and y.town)
    )


def _same_place(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same town or postcode district, or nothing that says otherwise: "12 High Street" is one
    house only within one place."""
    x, y = a.address, b.address
    pa, pb = a.postcode, b.postcode
    postcodes = pa is not None and pb is not None
    towns = bool(x.town and y.town)
    if pa is not None and pb is not None and pa.district == pb.district:
        return True
    if towns and _jw(x.town, y.town) >= ctx.config.jaro_winkler_high:
        return True
    return not postcodes and not towns


def _same_numbers(a: NormalisedRecord, b: NormalisedRecord) -> bool:
    return bool(a.address.numbers) and a.address.numbers == b.address.numbers


def _other_house(a: NormalisedRecord, b: NormalisedRecord) -> bool:
    """Both give numbers and share none in the same part: where both give a house number (the one
    before the street), a flat number on one side that is the other's house number is not shared
    ("10 Grange Lane" / "Flat 10, 1 Grange Lane" are two addresses)."""
    x, y = a.address, b.address
    if not (x.numbers and y.numbers):
        return False
    if x.house and y.house:
        return x.house != y.house and (x.numbers - {x.house}).isdisjoint(y.numbers - {y.house})
    return x.numbers.isdisjoint(y.numbers)


def _same_street_name(x: Address, y: Address) -> bool:
    """One street named on both: line 1's, or line 1's on one side and line 2's on the other (the
    lines written in the other order: ``Address.other_street``)."""
    street = x.street
    if not (street and y.street):
        return False
    return street in (y.street, y.other_street) or (bool(x.other_street) and x.other_street == y.street)


def _address_same(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """House (and flat) numbers and street the same, in the same place."""
    return _same_street_name(a.address, b.address) and _same_numbers(a, b) and _same_place(a, b, ctx)


def _address_unit(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same postcode unit (about 15 addresses), and no house numbers that say another house."""
    pa, pb = a.postcode, b.postcode
    return pa is not None and pb is not None and pa.unit == pb.unit and not _other_house(a, b)


def _streets_alike(x: str, y: str, threshold: float) -> bool:
    """Street names spelt alike: words in any order, or the same letters with a space typed in or
    left out ("Banner Street" / "Bannerstreet", "Nicklin Cre scent"), which splits or joins words."""
    if fuzz.token_sort_ratio(x, y) >= threshold:
        return True
    return fuzz.ratio(x.replace(" ", ""), y.replace(" ", "")) >= threshold


def _address_street_typo(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same numbers in the same place, the street spelt differently (a typo, a missing word), on
    line 1 or with the lines in the other order."""
    x, y = a.address, b.address
    if not (x.street and y.street and _same_numbers(a, b)):
        return False
    threshold = ctx.config.street_similarity
    alike = (
        _streets_alike(x.street, y.street, threshold)
        or (bool(y.other_street) and _streets_alike(x.street, y.other_street, threshold))
        or (bool(x.other_street) and _streets_alike(x.other_street, y.street, threshold))
    )
    return alike and _same_place(a, b, ctx)


def _address_street_number_unknown(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same street in the same place, and no house numbers that say another house: one side (or
    both: a named house, "Rose Cottage") gives none. A number left off is not a disagreement, so this
    weighs nearly what the street alone says; another number on the street (``same_street``) is a
    neighbour as often as a typo."""
    return not (a.address.numbers and b.address.numbers) and _address_same_street(a, b, ctx)


def _address_unit_other_house(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same street in the same postcode unit (about 15 addresses), another house number: a
    number mistyped or a move a few doors along, or a neighbour. Weighed about as ``same_street``
    is; named apart so that a rule can ask for it (``MatcherConfig.review_floor``)."""
    pa, pb = a.postcode, b.postcode
    return pa is not None and pb is not None and pa.unit == pb.unit and _address_same_street(a, b, ctx)


def _address_same_street(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same street in the same place, another house number (moved along the street, or the
    number mistyped; or a neighbour)."""
    return _same_street_name(a.address, b.address) and _same_place(a, b, ctx)


def _address_town(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same postcode district, or the same town (when the postcodes do not say otherwise)."""
    pa, pb = a.postcode, b.postcode
    if pa is not None and pb is not None and pa.district == pb.district:
        return True
    x, y = a.address.town, b.address.town
    return bool(x) and x == y and (pa is None or pb is None or pa.area == pb.area)


def _address_area(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """The same postcode area, or towns spelt alike."""
    pa, pb = a.postcode, b.postcode
    if pa is not None and pb is not None and pa.area == pb.area:
        return True
    x, y = a.address.town, b.address.town
    return bool(x and y) and _jw(x, y) >= ctx.config.jaro_winkler_high


# Postcode and address lines are one comparison: they say the same thing twice when they agree,
# and a move changes both, so weighing them apart would count one move against a pupil twice.
ADDRESS = Comparison(
    "address",
    (
        Level(NULL, _address_null),
        Level("same_address", _address_same),
        Level("postcode_unit", _address_unit),
        Level("street_typo", _address_street_typo),
        Level("street_number_unknown", _address_street_number_unknown),
        Level("unit_other_house", _address_unit_other_house),
        Level("same_street", _address_same_street),
        Level("postcode_sector", _same_sector),
        Level("district_or_town", _address_town),
        Level("area", _address_area),
    ),
)


def _gender_null(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.gender is None or b.gender is None


def _gender_agree(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.gender == b.gender


GENDER = Comparison(
    "gender", (Level(NULL, _gender_null), Level("agree", _gender_agree)), otherwise="conflict"
)


def _upn_null(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return not a.upn or not b.upn


def _upn_same(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    return a.upn == b.upn


def _upn_two_children(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Two permanent UPNs and two first given names: two children (twins' names no dictionary knows,
    Isha / Isla, read like a typo). With the given name the same, a second UPN is a school's error."""
    return a.first_given != b.first_given


# A permanent UPN follows a pupil from school to school: the same one is strong evidence of one
# pupil, two different ones strong evidence of two (twins have two). Temporary ones are null.
UPN = Comparison(
    "upn",
    (Level(NULL, _upn_null), Level("same", _upn_same), Level("different_children", _upn_two_children)),
    otherwise="different",
)

# --- middle names -----------------------------------------------------------------------------


def _middle_null(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """One side gives no middle name: schools leave them out often, so a missing one says nothing."""
    return not a.middle or not b.middle


def _middle_agree(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """A middle name in common, or given and middle names swapped (each side's middle name the
    other's given name)."""
    x, y = a.middle, b.middle
    if not x.isdisjoint(y):
        return True
    return not x.isdisjoint(b.given.tokens) and not y.isdisjoint(a.given.tokens)


def _middle_initial(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """An initial on one side that begins a middle name on the other (J / James)."""
    x, y = a.middle, b.middle
    return any(len(t) == 1 and any(u[0] == t for u in y) for t in x) or any(
        len(u) == 1 and any(t[0] == u for t in x) for u in y
    )


def _middle_similar(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """A middle name spelt alike on both sides (a typo: Louise / Loiuse)."""
    high = ctx.config.jaro_winkler_high
    return any(_jw(t, u) >= high for t in a.middle for u in b.middle)


def _middle_siblings(a: NormalisedRecord, b: NormalisedRecord, ctx: Context) -> bool:
    """Wholly different middle names on records of one family (the family name spelt alike, or one
    house; born as twins are, a family name that agrees at any level): children given one first
    name and told apart by the second, twins (Mohammed Ali / Mohammed Arham) or brothers a year
    apart (Muhammad Hassan / Muhammad Zain Bashir), never MATCHED. One pupil's middle names differ
    wholly on about 1 re-registration in 20, and born as twins are such records were already held
    back; what this adds is one family with birth dates apart, where one pupil needs a second error
    as well as the middle names', and a reviewer tells which.

    Middle names are compared first, for every candidate: the family name spelt alike or one house
    is asked before the family-name ladder, which only records born as twins are still need."""
    if a.family.joined == b.family.joined or _address_unit(a, b, ctx) or _address_same(a, b, ctx):
        return True
    # ``_as_twins`` with the house already known not to be shared.
    return _dates_as_twins(a, b, ctx) and _agrees(_FAMILY_DIRECT, a, b, ctx)


# Two middle names both given and wholly different are how two namesakes (Wei Ming / Wei Hao Chen)
# differ; the same middle name is a little evidence of one person.
MIDDLE_NAMES = Comparison(
    "middle_names",
    (
        Level(NULL, _middle_null),
        Level("agree", _middle_agree),
        Level("similar", _middle_similar),
        Level("initial", _middle_initial),
        Level("siblings_middles", _middle_siblings),
    ),
)

COMPARISONS: tuple[Comparison, ...] = (
    GIVEN_NAME,
    FAMILY_NAME,
    DATE_OF_BIRTH,
    ADDRESS,
    GENDER,
    UPN,
    MIDDLE_NAMES,
)


def make_context(config: MatcherConfig, frequencies: FrequencyLookup | None) -> Context:
    return Context(
        config,
        frequencies,
        given_name_variants(),
        family_name_variants(),
        known_given_names(),
        birth_names(),
        real_given_names(),
    )
