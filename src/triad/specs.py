"""Declarative model specs (``models/*.toml``): load, validate, hash.

A spec is data, not code: its formula may use only the variables in
:data:`FORMULA_VARIABLES`, the covariates the current study's codebook declares
(``[covariates.<name>]``, :func:`spec_covariates`) and the operators of Wilkinson/lme4
syntax, so a spec file cannot run arbitrary Python through a formula transform.  Every
error names the file and the key.

Keys
----
name : str (must equal the file's stem)
description : str
data : "respondent" | "summary"
level : "scale" | "item" (respondent models)
scales : list of scale ids
rows : list of ``rater>target`` pairs (who rates whom) that enter the model
family : "gaussian" | "t" | "cumulative_logit" | "cumulative_probit" | "summary_normal"
formula : Bambi formula for the mean (or the latent scale of ordinal families)
sigma_formula : optional Bambi formula for the residual SD (distributional model)
contrasts : list of named contrasts (:mod:`triad.contrasts`)
priors : table of term -> {dist, <parameters>, why}
noncentered : bool or list, default true -- group-specific effects non-centred (Bambi's
    default); false suits few groups with many rows each.  The PyMC ordinal model also takes
    a list of its group terms (``["1|respondent"]``): those non-centred, the others centred
disc : optional, ordinal families -- "rater": discrimination (1 / latent SD) by rater group,
    the professionals' fixed at 1, thresholds shared (brms ``disc ~ 0 + rater``; needs
    ``[priors.disc]``, a prior on the log discrimination); "common": one latent SD.  Either
    builds the model in PyMC (:mod:`triad.ordinal_model`); absent: Bambi's cumulative model
thresholds : optional, ordinal families -- "shared" (default) or "rater" (each rater group
    its own thresholds; then ``disc`` cannot be "rater": the thresholds absorb its scale)
sampler : {draws, tune, chains, target_accept, seed}, optional {ess_target, draws_min,
    draws_step, dense_mass} -- ``draws`` is the most per chain; with the numpyro backend the
    chains stop earlier once the gates pass with ``ess_target``
    (:data:`triad.fitting.ESS_STOPPING`; ``ess_target = 0``: always ``draws``);
    ``dense_mass = true`` (numpyro only): one dense mass-matrix block over the parameters of
    at most 50 elements (:func:`triad.sampling.dense_block`), diagonal for the rest
quick : optional {draws, tune} for smoke runs
missing_age : "indicator" (default) | "complete_case" -- respondent models: a row without an
    age keeps its place with ``age_z = 0`` and ``age_missing = 1`` (the formula's
    ``age_missing`` terms give those respondents their own shift; dropped from the model
    when no age is missing), or is left out and listed in ``excluded``
    (:mod:`triad.missingness`)
claim_pairs : "all" (default) | "gaps" -- which claim pairs the model reads: "gaps" keeps
    only pairs of different rater groups (youth, parent, professional), for a model built
    to answer the gap claims (:mod:`triad.gaps`)
paired : summary specs: table of pair kind -> {r, why, optional range}: the correlation
    of two printed means of the same people (:mod:`triad.paired`)
"""

import dataclasses
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from triad.likelihoods import LIKELIHOODS, likelihood
from triad.paths import models_dir

__all__ = ["FORMULA_VARIABLES", "ModelSpec", "SpecError", "load_spec", "load_specs",
           "read_toml", "spec_covariates", "spec_from_raw"]

FORMULA_VARIABLES = frozenset({
    "score", "value", "cell", "role", "rater", "target", "sector", "gender", "age_z",
    "respondent", "scale", "item", "scale_cell", "n", "mean", "sd",
    "group", "group_gender", "scale_gender", "age_missing", "dyad", "side", "gap_cell",
})
FAMILIES = tuple(LIKELIHOODS)  # the registry of triad.likelihoods
_KEYS = {"name", "description", "data", "level", "scales", "rows", "family", "formula",
         "sigma_formula", "contrasts", "priors", "sampler", "quick", "noncentered",
         "missing_age", "claim_pairs", "paired", "disc", "thresholds", "hypotheses"}
MISSING_AGE = ("indicator", "complete_case")
CLAIM_PAIRS = ("all", "gaps")
_DISC = ("rater", "common")
_THRESHOLDS = ("shared", "rater")
_SAMPLER_KEYS = {"draws": int, "tune": int, "chains": int, "target_accept": float, "seed": int,
                 "ess_target": int, "draws_min": int, "draws_step": int, "dense_mass": bool}
_DISTS = {"Normal", "HalfNormal", "StudentT", "Exponential", "HalfStudentT", "Gamma", "LogNormal",
          "ZeroSumNormal"}
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\d+(?:\.\d+)?)|(\|\||[~+\-*:|()/]))")


class SpecError(ValueError):
    """A model spec that cannot be used; names the file and the key."""

    exit_code = 2

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        self.file, self.key = str(file), key
        super().__init__(f"{file}: key '{key}': {message}")


@dataclass(frozen=True)
class ModelSpec:
    """A validated model spec."""

    path: Path
    name: str
    description: str
    data: str
    family: str
    formula: str
    scales: tuple
    contrasts: tuple
    priors: dict
    sampler: dict
    level: str = "scale"
    rows: tuple = ()
    sigma_formula: str | None = None
    quick: dict = field(default_factory=dict)
    noncentered: bool | tuple = True
    missing_age: str = "indicator"
    claim_pairs: str = "all"
    variant: str = ""
    content_sha256: str = ""
    paired: dict = field(default_factory=dict)
    disc: str = ""
    thresholds: str = "shared"
    hypotheses: tuple = ()

    @property
    def sha256(self) -> str:
        """Hash of the spec (part of every fit's cache key).

        The file's bytes; for a multiverse variant (:mod:`triad.multiverse`), the hash of
        the base file and the variant's definition.
        """
        return self.content_sha256 or hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def ordinal(self) -> bool:
        """Whether the family is a cumulative (ordinal) model."""
        return likelihood(self.family).ordinal

    @property
    def pymc_ordinal(self) -> bool:
        """Whether the model is built by :mod:`triad.ordinal_model` (not by Bambi)."""
        return self.ordinal and (bool(self.disc) or self.thresholds != "shared")


def _allowed_text(covariates: dict) -> str:
    names = ", ".join(sorted(FORMULA_VARIABLES))
    declared = ", ".join(sorted(covariates)) or "none"
    return f"{names}; covariates declared in the study's codebook: {declared}"


def _check_formula(path: Path, key: str, formula: str, response: set,
                   covariates: dict | None = None) -> None:
    """Refuse anything but allowed variables, numbers and Wilkinson operators.

    ``covariates``: the current study's declared covariates (name -> Covariate), which a
    formula may use beside :data:`FORMULA_VARIABLES`.  A name followed by ``(`` is a
    function call and refused whatever the name.
    """
    covariates = covariates or {}
    allowed = FORMULA_VARIABLES | response | set(covariates)
    pos = 0
    text = formula.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SpecError(path, key, f"unexpected character {text[pos]!r} in formula "
                                       f"{formula!r} (only variables, numbers and + - * : | ( ) ~"
                                       " are allowed)")
        name = m.group(1)
        if name is not None and text[m.end():].lstrip().startswith("("):
            raise SpecError(path, key, f"function calls are not allowed in formulas "
                                       f"({name}(...)); variables: {_allowed_text(covariates)}")
        if name is not None and name not in allowed:
            raise SpecError(path, key, f"unknown variable {name!r}; allowed: "
                                       f"{_allowed_text(covariates)}")
        pos = m.end()
    if "~" not in formula:
        raise SpecError(path, key, "a formula needs '~'")


def spec_covariates(spec: "ModelSpec", covariates: dict | None = None) -> list[str]:
    """Return the declared covariates a spec's formulas use, in the order of ``covariates``.

    Parameters
    ----------
    spec : ModelSpec
    covariates : dict, optional
        Name -> :class:`triad.codebook.Covariate`; default the current study's.
    """
    if covariates is None:
        from triad.codebook import load_codebook

        covariates = load_codebook().covariates
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*",
                           f"{spec.formula} {spec.sigma_formula or ''}"))
    return [c for c in covariates if c in names]


def _check_prior(path: Path, key: str, prior: object, top: bool = True) -> dict:
    if not isinstance(prior, dict):
        raise SpecError(path, key, "a prior is a table with 'dist' and its parameters")
    if prior.get("dist") not in _DISTS:
        raise SpecError(path, f"{key}.dist", f"unknown distribution {prior.get('dist')!r}; "
                                             f"allowed: {', '.join(sorted(_DISTS))}")
    if top and not str(prior.get("why", "")).strip():
        raise SpecError(path, f"{key}.why", "every prior needs a one-line justification")
    for pname, value in prior.items():
        if pname in ("dist", "why"):
            continue
        if isinstance(value, dict):
            _check_prior(path, f"{key}.{pname}", value, top=False)
        elif isinstance(value, list):
            if not value or not all(isinstance(v, int | float) and not isinstance(v, bool)
                                    for v in value):
                raise SpecError(path, f"{key}.{pname}", "a list of numbers expected")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            raise SpecError(path, f"{key}.{pname}", f"must be a number, got {value!r}")
    return prior


def _check_paired(path: Path, raw: dict) -> dict:
    paired = raw.get("paired", {})
    if paired and raw["data"] != "summary":
        raise SpecError(path, "paired", "only summary specs have paired cells")
    if not isinstance(paired, dict):
        raise SpecError(path, "paired", "a table of pair name -> {scales or targets, r, why}")

    def correlation(key: str, value: object) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool) or not (
                -1 < value < 1):
            raise SpecError(path, key, f"a correlation between -1 and 1, got {value!r}")
        return float(value)

    for kind, setting in paired.items():
        key = f"paired.{kind}"
        if not isinstance(setting, dict) or "r" not in setting:
            raise SpecError(path, key, "a table with 'scales' or 'targets', 'family', 'r', "
                            "'why' and optionally 'range'")
        unknown = sorted(set(setting) - {"r", "why", "range", "scales", "targets", "family"})
        if unknown:
            raise SpecError(path, f"{key}.{unknown[0]}",
                            "unknown; allowed: scales, targets, family, r, why, range")
        # which two cells hold the same people: two scales of one group, or one scale of
        # a rater group about two targets
        members = [m for m in ("scales", "targets") if m in setting]
        if len(members) != 1:
            raise SpecError(path, key, "needs exactly one of 'scales' (two scales the same "
                            "people answer) or 'targets' (two targets the same raters rate)")
        pair = setting[members[0]]
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(x, str) and x for x in pair)):
            raise SpecError(path, f"{key}.{members[0]}", f"a list of two names, got {pair!r}")
        if not isinstance(setting.get("family", ""), str):
            raise SpecError(path, f"{key}.family", "the name of a contrast family")
        correlation(f"{key}.r", setting["r"])
        if not str(setting.get("why", "")).strip():
            raise SpecError(path, f"{key}.why", "every stated correlation needs a justification")
        values = setting.get("range", [])
        if not isinstance(values, list):
            raise SpecError(path, f"{key}.range", "a list of correlations")
        for v in values:
            correlation(f"{key}.range", v)
    return paired


def load_spec(path: str | Path) -> ModelSpec:
    """Load and validate one spec file.

    Raises
    ------
    SpecError
        Naming the file and key of the first problem.
    """
    path = Path(path)
    return spec_from_raw(read_toml(path), path)


def read_toml(path: Path) -> dict:
    """Parse a TOML file; unreadable or invalid files raise :class:`SpecError`."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, "-", f"cannot read the file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, "-", f"not valid TOML ({exc})") from None


def spec_from_raw(raw: dict, path: Path, *, variant: str = "",
                  content_sha256: str = "") -> ModelSpec:
    """Validate a parsed spec; ``variant`` names a multiverse variant derived from ``path``.

    Raises
    ------
    SpecError
        Naming the file and key of the first problem.
    """
    from triad.contrasts import known_contrast  # the catalogue lives with the contrasts

    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise SpecError(path, unknown[0], f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    for key in ("name", "description", "data", "family", "formula", "scales", "contrasts",
                "priors", "sampler"):
        if key not in raw:
            raise SpecError(path, key, "missing")
    if raw["name"] != path.stem + (f"~{variant}" if variant else ""):
        raise SpecError(path, "name", f"must equal the file name {path.stem!r}")
    if raw["data"] not in ("respondent", "summary"):
        raise SpecError(path, "data", "must be 'respondent' or 'summary'")
    if raw["family"] not in FAMILIES:
        raise SpecError(path, "family", f"must be one of {', '.join(FAMILIES)}")
    level = raw.get("level", "scale")
    if level not in ("scale", "item"):
        raise SpecError(path, "level", "must be 'scale' or 'item'")
    from triad.codebook import load_codebook

    codebook = load_codebook()
    scales = raw["scales"]
    known_scales = set(codebook.scales)
    if not isinstance(scales, list) or not scales or not set(scales) <= known_scales:
        raise SpecError(path, "scales", f"a non-empty list of {sorted(known_scales)}")
    rows = raw.get("rows", [])
    if raw["data"] == "respondent":
        if not rows:
            raise SpecError(path, "rows", "respondent models list the rater>target pairs used")
        for r in rows:
            if not re.fullmatch(r"[a-z_]+>[a-z_]+", str(r)):
                raise SpecError(path, "rows", f"{r!r} is not of the form rater>target")
    response = {"score"} if raw["data"] == "respondent" else {"mean"}
    # a summary model's rows are published cells: they carry no respondent covariates
    covariates = codebook.covariates if raw["data"] == "respondent" else {}
    # a rater group that pools roles is a 0/1 column of the respondent frame
    aggregates = set(codebook.aggregates) if raw["data"] == "respondent" else set()
    _check_formula(path, "formula", raw["formula"], response | {"value"} | aggregates,
                   covariates)
    if "sigma_formula" in raw:
        _check_formula(path, "sigma_formula", raw["sigma_formula"], {"sigma", "nu"},
                       covariates)
    for c in raw["contrasts"]:
        if not known_contrast(c):
            raise SpecError(path, "contrasts", f"unknown contrast {c!r}")
    priors = {k: _check_prior(path, f"priors.{k}", v) for k, v in raw["priors"].items()}
    sampler = dict(raw["sampler"])
    for k, v in sampler.items():
        if k not in _SAMPLER_KEYS:
            raise SpecError(path, f"sampler.{k}", f"unknown; allowed: {', '.join(_SAMPLER_KEYS)}")
        if not isinstance(v, _SAMPLER_KEYS[k]) or isinstance(v, bool) != (
                _SAMPLER_KEYS[k] is bool):
            raise SpecError(path, f"sampler.{k}", f"must be {_SAMPLER_KEYS[k].__name__}")
        if k in ("ess_target", "draws_min", "draws_step") and v < (k != "ess_target"):
            raise SpecError(path, f"sampler.{k}", "must be at least "
                            f"{int(k != 'ess_target')}")
    for k in ("draws", "tune", "chains", "seed"):
        if k not in sampler:
            raise SpecError(path, f"sampler.{k}", "missing")
    quick = dict(raw.get("quick", {}))
    noncentered = raw.get("noncentered", True)
    if isinstance(noncentered, list):
        noncentered = _check_noncentered(path, raw, noncentered)
    elif not isinstance(noncentered, bool):
        raise SpecError(path, "noncentered", "must be true, false or a list of group terms")
    for key, allowed in (("missing_age", MISSING_AGE), ("claim_pairs", CLAIM_PAIRS)):
        if raw.get(key, allowed[0]) not in allowed:
            raise SpecError(path, key, f"must be one of {', '.join(allowed)}")
    disc, thresholds = _check_ordinal(path, raw, priors)
    return ModelSpec(
        path=path, name=raw["name"], description=raw["description"], data=raw["data"],
        family=raw["family"], formula=raw["formula"], scales=tuple(scales),
        contrasts=tuple(raw["contrasts"]), priors=priors, sampler=sampler, level=level,
        rows=tuple(rows), sigma_formula=raw.get("sigma_formula"), quick=quick,
        noncentered=noncentered, missing_age=raw.get("missing_age", MISSING_AGE[0]),
        claim_pairs=raw.get("claim_pairs", CLAIM_PAIRS[0]), variant=variant,
        content_sha256=content_sha256, paired=_check_paired(path, raw),
        disc=disc, thresholds=thresholds,
        hypotheses=_check_hypotheses(path, raw.get("hypotheses", []), tuple(scales)),
    )


def add_hypotheses(spec: ModelSpec, texts) -> ModelSpec:
    """Return ``spec`` with extra hypotheses (``triad fit --hypothesis``).

    Each text is parsed as a ``[[hypotheses]]`` entry is; the spec's hash (its fits'
    cache key) then covers them, so a fit asked a new hypothesis is made anew.

    Raises
    ------
    SpecError
        Naming the spec and the ``--hypothesis`` that cannot be read.
    """
    from triad.hypotheses import HypothesisError, parse_hypothesis

    texts = [str(t) for t in texts]
    if not texts:
        return spec
    parsed = []
    for text in texts:
        try:
            parsed.append(parse_hypothesis(text, spec.scales))
        except HypothesisError as exc:
            raise SpecError(spec.path, "--hypothesis", str(exc)) from None
    digest = hashlib.sha256("\n".join([spec.sha256, *texts]).encode()).hexdigest()
    return dataclasses.replace(spec, hypotheses=(*spec.hypotheses, *parsed),
                               content_sha256=digest)


def _check_hypotheses(path: Path, raw: list, scales: tuple) -> tuple:
    """Parse ``[[hypotheses]]`` (``hypothesis`` and ``why`` each) into Hypothesis objects."""
    from triad.hypotheses import HypothesisError, parse_hypothesis

    if not isinstance(raw, list):
        raise SpecError(path, "hypotheses", "a list of [[hypotheses]] tables")
    out = []
    for i, entry in enumerate(raw):
        key = f"hypotheses[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"hypothesis", "why"}:
            raise SpecError(path, key, "needs exactly 'hypothesis' (e.g. \"a>b@s1 - "
                                       "b>a@s1 < 0\": group keys rater>target@sector) "
                                       "and 'why'")
        try:
            out.append(parse_hypothesis(str(entry["hypothesis"]), scales))
        except HypothesisError as exc:
            raise SpecError(path, f"{key}.hypothesis", str(exc)) from None
    return tuple(out)


def _check_noncentered(path: Path, raw: dict, terms: list) -> tuple:
    """Check a list ``noncentered``: group terms of the formula (the others are centred)."""
    if not (raw.get("disc") or raw.get("thresholds")):
        raise SpecError(path, "noncentered", "a list of terms needs the PyMC ordinal model "
                        "('disc' or 'thresholds'); Bambi takes only true or false")
    groups = set(re.findall(r"\(\s*1\s*\|\s*(\w+)\s*\)", raw["formula"]))
    for t in terms:
        m = re.fullmatch(r"1\|(\w+)", str(t))
        if not m or m.group(1) not in groups:
            raise SpecError(path, "noncentered", f"{t!r} is not a group term of the formula "
                            f"({', '.join(f'1|{g}' for g in sorted(groups))})")
    return tuple(terms)


def _check_ordinal(path: Path, raw: dict, priors: dict) -> tuple[str, str]:
    """Validate ``disc`` and ``thresholds`` (ordinal families only)."""
    disc, thresholds = raw.get("disc", ""), raw.get("thresholds", "shared")
    for key, value, allowed in (("disc", disc, _DISC), ("thresholds", thresholds,
                                                         _THRESHOLDS)):
        if key not in raw:
            continue
        if not likelihood(str(raw["family"])).ordinal:
            ordinal = ", ".join(f for f, e in LIKELIHOODS.items() if e.ordinal)
            raise SpecError(path, key, f"only for the ordinal families ({ordinal})")
        if value not in allowed:
            raise SpecError(path, key, f"must be one of {', '.join(map(repr, allowed))}, "
                                       f"got {value!r}")
    if disc == "rater" and thresholds == "rater":
        raise SpecError(path, "disc", "discrimination by rater is not identified with "
                                      "thresholds by rater (the thresholds absorb each "
                                      "rater's latent scale); use disc = \"common\"")
    if disc == "rater" and "disc" not in priors:
        raise SpecError(path, "priors.disc", "disc = \"rater\" needs a prior on the log "
                                             "discrimination, with a 'why'")
    return disc, thresholds


def load_specs(folder: str | Path | None = None, pattern: str = "*.toml") -> list[ModelSpec]:
    """Load every spec in ``models/`` (or ``folder``) matching ``pattern``, sorted by name.

    ``pattern`` is a glob of file names; a spec name without ``.toml`` (``metric_inspraak``,
    ``metric_*``) matches its file.
    """
    folder = Path(folder) if folder is not None else models_dir()
    return [load_spec(p) for p in sorted(folder.glob(spec_glob(pattern)))]


def spec_glob(pattern: str) -> str:
    """Return the file glob of a spec pattern: ``.toml`` added where it is missing."""
    pattern = pattern.strip()
    return pattern if pattern.endswith(".toml") else f"{pattern}.toml"
