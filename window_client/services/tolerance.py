"""The tolerance check (容缺预审) lives in :mod:`models.tolerance`, shared with the hall server,
which runs the same function on every pushed ``case.accept``; re-exported here for the services."""

from models.tolerance import (
    CLEAN_STANDING,
    DEFAULT_POLICY,
    ApplicantStanding,
    MissingMaterial,
    TolerancePolicy,
    Verdict,
    assess,
)

__all__ = [
    "CLEAN_STANDING",
    "DEFAULT_POLICY",
    "ApplicantStanding",
    "MissingMaterial",
    "TolerancePolicy",
    "Verdict",
    "assess",
]
