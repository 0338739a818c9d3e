"""School-side file formats: LRB CSV and CTF XML in, results CSVs out. Pure parsing, no gRPC."""

from .achievements import read_achievements
from .ctf import CtfFile, CtfHeader, CtfPupil, open_ctf, read_ctf_achievements, read_ctf_learners
from .detect import LearnerFile, detect_format, open_learner_file
from .lookup import read_lookups
from .lrb import LrbFile, LrbFileInfo, open_lrb, write_lrb
from .results import (
    AchievementResult,
    LookupResult,
    OrderedResultsWriter,
    Outcome,
    RegistrationResult,
    achievement_results_writer,
    lookup_results_writer,
    registration_results_writer,
)
from .rows import AchievementRow, FileFormatError, LearnerRow, LookupRow, RowProblem

__all__ = [
    "AchievementResult",
    "AchievementRow",
    "CtfFile",
    "CtfHeader",
    "CtfPupil",
    "FileFormatError",
    "LearnerFile",
    "LearnerRow",
    "LookupResult",
    "LookupRow",
    "LrbFile",
    "LrbFileInfo",
    "OrderedResultsWriter",
    "Outcome",
    "RegistrationResult",
    "RowProblem",
    "achievement_results_writer",
    "detect_format",
    "lookup_results_writer",
    "open_ctf",
    "open_learner_file",
    "open_lrb",
    "read_achievements",
    "read_ctf_achievements",
    "read_ctf_learners",
    "read_lookups",
    "registration_results_writer",
    "write_lrb",
]
