"""Synthetic LRB CSVs for benchmarks: ``python -m school_client.files.generate --rows N --out FILE``.

Optional ``--seed S`` (default 0). The people are invented. Learners are aged 14-16 today (born 2010-09-01 ..
2012-08-31). Each row index is mapped through an affine permutation of the space given name x family name x
date of birth, so (given, family, DOB) are distinct for every row as long as rows <= that space (~48 million).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence

from .lrb import write_lrb
from .rows import LearnerRow

_GIVEN_FEMALE = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Willow",
    "Freya",
    "Florence",
    "Emily",
    "Ella",
    "Poppy",
    "Evie",
    "Elsie",
    "Charlotte",
    "Evelyn",
    "Sienna",
    "Sofia",
    "Daisy",
    "Phoebe",
    "Sophie",
    "Alice",
    "Harper",
    "Matilda",
    "Ruby",
    "Emilia",
    "Maya",
    "Millie",
    "Isabelle",
    "Erin",
    "Aisha",
    "Zara",
    "Hannah",
    "Layla",
    "Eliza",
    "Chloe",
    "Imogen",
    "Jessica",
    "Lucy",
    "Martha",
    "Nancy",
    "Orla",
    "Priya",
    "Amara",
    "Niamh",
]
_GIVEN_MALE = [
    "Oliver",
    "George",
    "Noah",
    "Arthur",
    "Muhammad",
    "Leo",
    "Oscar",
    "Harry",
    "Archie",
    "Jack",
    "Henry",
    "Charlie",
    "Freddie",
    "Theodore",
    "Thomas",
    "Finley",
    "Theo",
    "Alfie",
    "Jacob",
    "William",
    "Isaac",
    "Tommy",
    "Joshua",
    "James",
    "Lucas",
    "Alexander",
    "Arlo",
    "Roman",
    "Edward",
    "Max",
    "Mason",
    "Sebastian",
    "Ethan",
    "Reuben",
    "Elijah",
    "Adam",
    "Louie",
    "Hugo",
    "Rory",
    "Ezra",
    "Samuel",
    "Daniel",
    "Ibrahim",
    "Yusuf",
    "Kai",
    "Caleb",
    "Toby",
    "Owen",
    "Dylan",
    "Rhys",
]
_FAMILY_START = [
    "Ash",
    "Bar",
    "Black",
    "Brad",
    "Brook",
    "Cal",
    "Carr",
    "Chad",
    "Cole",
    "Craw",
    "Dal",
    "Dun",
    "Eas",
    "Fair",
    "Fox",
    "Gar",
    "Green",
    "Hal",
    "Hart",
    "Hol",
    "Kent",
    "Lang",
    "Lea",
    "Lock",
    "Marsh",
    "Mill",
    "New",
    "North",
    "Oak",
    "Pem",
    "Red",
    "Ridge",
    "Rom",
    "Sand",
    "Shaw",
    "Stan",
    "Thorn",
    "Wal",
    "West",
    "Whit",
    "Wood",
]
_FAMILY_END = [
    "ford",
    "ley",
    "ton",
    "well",
    "by",
    "wood",
    "field",
    "more",
    "ham",
    "worth",
    "stead",
    "combe",
    "land",
    "bridge",
    "dale",
]
_FAMILY_WHOLE = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Khan",
    "Lewis",
    "Harris",
    "Clarke",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "Begum",
    "Ahmed",
    "Hussain",
    "Ali",
    "Okafor",
    "Adeyemi",
    "Nowak",
    "Kowalski",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Singh",
    "Kaur",
    "Chen",
    "Nguyen",
]
_TOWNS = (
    ("Leeds", "West Yorkshire", "LS"),
    ("Manchester", "Greater Manchester", "M"),
    ("Birmingham", "West Midlands", "B"),
    ("Bristol", "Bristol", "BS"),
    ("Norwich", "Norfolk", "NR"),
    ("Exeter", "Devon", "EX"),
    ("Newcastle upon Tyne", "Tyne and Wear", "NE"),
    ("Nottingham", "Nottinghamshire", "NG"),
    ("Sheffield", "South Yorkshire", "S"),
    ("Reading", "Berkshire", "RG"),
)
_STREETS = [
    "Oak Street",
    "Station Road",
    "Church Lane",
    "Mill Road",
    "Park Avenue",
    "Victoria Road",
    "Green Lane",
    "The Crescent",
]
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters the inward code uses (no C I K M O V)
_FIRST_DOB = dt.date(2010, 9, 1)
_DOB_DAYS = (dt.date(2012, 8, 31) - _FIRST_DOB).days + 1
_FAMILY = tuple(_FAMILY_WHOLE) + tuple(a + b for a in _FAMILY_START for b in _FAMILY_END)


def _postcode(rng: random.Random, area: str) -> str:
    inward = f"{rng.randint(0, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
    return f"{area}{rng.randint(1, 29)} {inward}"


def generate_learners(rows: int, seed: int = 0) -> Iterator[LearnerRow]:
    """Yield ``rows`` synthetic learners, deterministically for a given seed."""
    given = _GIVEN_FEMALE + _GIVEN_MALE
    space = len(given) * len(_FAMILY) * _DOB_DAYS
    if rows > space:
        raise ValueError(f"at most {space} distinct learners can be generated")
    rng = random.Random(seed)
    step = rng.randrange(space // 3, space)
    while math.gcd(step, space) != 1:
        step += 1
    offset = rng.randrange(space)
    for index in range(rows):
        code = (index * step + offset) % space
        code, g = divmod(code, len(given))
        day, f = divmod(code, len(_FAMILY))
        town, county, area = rng.choice(_TOWNS)
        preferred = given[(g + 7) % len(given)] if rng.random() < 0.03 else ""
        yield LearnerRow(
            line_number=index + 2,
            mis_identifier=f"MIS{index + 1:08d}",
            given_name=given[g],
            preferred_given_name=preferred,
            family_name=_FAMILY[f],
            address_line1=f"{rng.randint(1, 250)} {rng.choice(_STREETS)}",
            town=town,
            county=county,
            postcode=_postcode(rng, area),
            date_of_birth=(_FIRST_DOB + dt.timedelta(days=day)).isoformat(),
            gender="female" if g < len(_GIVEN_FEMALE) else "male",
            ability_to_share="share" if rng.random() < 0.95 else "do-not-share",
        )


def write_synthetic_lrb(path: str, rows: int, seed: int = 0, ukprn: str = "10000001") -> None:
    """Write a synthetic LRB 2A CSV with its file-header columns, streaming (constant memory)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    with open(path, "w", encoding="utf-8", newline="") as stream:
        write_lrb(stream, generate_learners(rows, seed), file_name=name, ukprn=ukprn, record_count=rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ukprn", default="10000001")
    args = parser.parse_args(argv)
    write_synthetic_lrb(args.out, args.rows, args.seed, args.ukprn)


if __name__ == "__main__":
    main()
