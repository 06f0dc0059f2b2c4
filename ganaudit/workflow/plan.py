"""Config logic the Snakefile needs, kept here so it is unit-tested: per-model spec checks, which image
groups exist, the params each job receives (exactly the config values that shape its output), the shard
ranges, and the report's front page. See docs/architecture.md (data flow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganaudit.audits.registry import AUDITS
from ganaudit.data.roles import GENERATED_GROUPS, inlier_group, inlier_label, scored_groups  # noqa: F401  (the rules use them)
from ganaudit.models.kinds import BUILTIN_KEYS, BUILTIN_KINDS, SAMPLES_KIND, is_builtin, is_samples  # noqa: F401  (the rules use them)

MNIST_CLASSES = set(range(10))


class ConfigError(ValueError):
    """A config problem, reported as ``config: key: what was wrong``."""


def normalise_config(config: dict[str, Any]) -> dict[str, Any]:
    """Rewrite every source (``dataset.source``, ``groups.*.source``) to its mapping spelling, in place."""
    config["dataset"]["source"] = normalise_source(config["dataset"].get("source", "mnist"), "dataset.source")
    for name, spec in config.get("groups", {}).items():
        if "source" in spec:
            spec["source"] = normalise_source(spec["source"], f"groups.{name}.source")
    return config


def check_config(config: dict[str, Any]) -> None:
    """Checks beyond the JSON schema; raises `ConfigError` naming the key. Expects `normalise_config`'s output."""
    ds = config["dataset"]
    has_train = ds["source"]["kind"] != "none"
    for name, spec in config["models"].items():
        if is_samples(spec):
            check_samples_spec(name, spec)
        elif is_builtin(spec):
            unknown = sorted(set(spec) - BUILTIN_KEYS)
            if unknown:
                raise ConfigError(f"config: models.{name}: unknown key(s) {unknown} for kind {spec['kind']!r} "
                                  f"(allowed: {sorted(BUILTIN_KEYS)})")
            if "latent_dim" not in spec:
                raise ConfigError(f"config: models.{name}.latent_dim: required for kind {spec['kind']!r}")
            if spec["kind"] != "ppca" and "train" not in spec:
                raise ConfigError(f"config: models.{name}.train: required for kind {spec['kind']!r} (steps, batch_size, lr)")
            if not has_train:
                raise ConfigError(f"config: models.{name}: kind {spec['kind']!r} is trained by the pipeline, "
                                  f"but dataset.source.kind is 'none'")
        else:
            from ganaudit.models import adapters

            try:
                adapters.check_spec(spec)
            except ValueError as e:
                raise ConfigError(f"config: models.{name}: {e}") from None
    kind = normalise_source(ds["source"], "dataset.source")["kind"]
    if kind not in DATASET_SOURCES:
        raise ConfigError(f"config: dataset.source: kind {kind!r} is not a class-labelled dataset "
                          f"(expected one of {list(DATASET_SOURCES)})")
    for name, spec in config["groups"].items():
        if name == "other_classes":
            continue
        if "source" not in spec:
            raise ConfigError(f"config: groups.{name}.source: required (e.g. `source: animal_silhouettes` or "
                              "`source: {kind: image_folder, path: DIR}`)")
        src = normalise_source(spec["source"], f"groups.{name}.source")
        if src["kind"] not in SHIPPED_SOURCES + USER_SOURCES:
            raise ConfigError(f"config: groups.{name}.source: unknown kind {src['kind']!r} "
                              f"(expected one of {list(SHIPPED_SOURCES + USER_SOURCES)})")
        if src["kind"] in USER_SOURCES and src["kind"] != "torchvision" and not src.get("path"):
            raise ConfigError(f"config: groups.{name}.source: kind {src['kind']!r} needs a path: "
                              f"`source: {{kind: {src['kind']}, path: DIR}}` (the same spelling as dataset.source)")
    if not has_train and config["sigma"]["value"] is None:
        raise ConfigError("config: sigma.value: there are no training images (dataset.source.kind is 'none'), so the "
                          "maximum-likelihood σ² cannot be formed; set sigma.value (model scale [-1, 1])")
    for name in config["models"]:
        inversion_params(config, name)  # a per-model override names only the optimiser's keys
    for key in ("inversion", "ais") if generator_models(config) else ():   # stored samples only: neither runs
        known = set(group_names(config))
        unknown = sorted(set(config[key]["groups"]) - known - {"train", "test", "other_classes"})
        if unknown:
            raise ConfigError(f"config: {key}.groups: unknown group(s) {unknown} (known: {sorted(known)})")


def check_samples_spec(name: str, spec: dict[str, Any]) -> None:
    """A ``samples`` model's entry: only its keys (`ganaudit.models.samples.SAMPLES_KEYS`) and a ``path`` that exists
    (a folder of images, an ``.npz`` or an HDF5 file); `ConfigError` naming the key."""
    from ganaudit.models.samples import SAMPLES_KEYS

    unknown = sorted(set(spec) - SAMPLES_KEYS)
    if unknown:
        raise ConfigError(f"config: models.{name}: unknown key(s) {unknown} for kind 'samples' (allowed: {sorted(SAMPLES_KEYS)})")
    if not spec.get("path"):
        raise ConfigError(f"config: models.{name}.path: required for kind 'samples' (a folder of PNG/JPEG images, "
                          "an .npz with an 'images' array, or an HDF5 file)")
    if not Path(str(spec["path"])).expanduser().exists():
        raise ConfigError(f"config: models.{name}.path: {spec['path']} not found")


def sample_models(config: dict[str, Any]) -> list[str]:
    """The models given as stored samples (kind ``samples``): only the audits that need samples run for them."""
    return [m for m, s in config["models"].items() if is_samples(s)]


def generator_models(config: dict[str, Any]) -> list[str]:
    """The models with a generator: the paper's stages (inversion, density, their figures) run for these."""
    return [m for m, s in config["models"].items() if not is_samples(s)]


def paper_plan(config: dict[str, Any]) -> str | None:
    """None when the run makes the paper's model-based stages (inversion, AIS, typicality and their tables and
    figures), else why not (one sentence for the findings page): every model is given as stored samples."""
    if generator_models(config):
        return None
    return ("every model of this run is given as stored samples (kind samples: " + ", ".join(sample_models(config))
            + "); inversion, the log-likelihood (AIS) and the typical set need a generator, so the paper's four "
            "findings and its model-based figures are skipped and only the tests that need samples run")


def group_names(config: dict[str, Any]) -> list[str]:
    """Every image group the run has, in a stable order."""
    ds = config["dataset"]
    names = []
    if ds["source"]["kind"] != "none":
        names += ["train", "test"]
        if ds["source"]["kind"] != "mnist" or set(ds["classes"]) != MNIST_CLASSES:
            names.append("other_classes")
    names += list(GENERATED_GROUPS)
    names += [g for g, spec in config["groups"].items() if g != "other_classes" and spec.get("enabled", True)]
    return names


def inversion_groups(config: dict[str, Any]) -> list[str]:
    have = group_names(config)
    return [g for g in config["inversion"]["groups"] if g in have]


def ais_groups(config: dict[str, Any]) -> list[str]:
    have = group_names(config)
    return [g for g in config["ais"]["groups"] if g in have]


# ---------------------------------------------------------------------------------------------- sources

SHIPPED_SOURCES = ("constant_colour", "animal_silhouettes", "photo_crops", "mnist_digits", "noise")
USER_SOURCES = ("image_folder", "cifar10", "cifar100", "svhn", "torchvision")
DATASET_SOURCES = ("mnist", *USER_SOURCES, "none")


def normalise_source(value: str | dict[str, Any], where: str) -> dict[str, Any]:
    """One spelling for a source in both places (``dataset.source`` and ``groups.<name>.source``):
    a mapping ``{kind: KIND, path: …, …}``, or the bare kind name for sources without options
    (``source: animal_silhouettes`` is ``source: {kind: animal_silhouettes}``)."""
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict) or "kind" not in value:
        raise ConfigError(f"config: {where}: expected a source name or a mapping with 'kind' (got {value!r})")
    return dict(value)


# ---------------------------------------------------------------------------------------------- per-job params
# Each job receives exactly the config values that shape its output (Snakemake compares params as text),
# so an edit reruns what it makes stale and nothing else.


def group_params(config: dict[str, Any], group: str) -> dict[str, Any]:
    """What an image group's data artifact depends on: the dataset keys its images come from and, for an
    extra group, its own spec. The seed enters through `group_seed` (the group's name, not its position)."""
    ds = config["dataset"]
    shape = {"image_size": ds["image_size"], "channels": ds["channels"]}
    source = normalise_source(ds["source"], "dataset.source")
    if group in ("train", "test"):
        cap = f"max_{group}"
        return {"group": group, "source": source, "classes": ds["classes"], cap: ds.get(cap), **shape}
    if group == "other_classes":
        return {"group": group, "source": source, "classes": ds["classes"],
                "n": config["groups"].get("other_classes", {}).get("n"), **shape}
    spec = dict(config["groups"][group])
    spec["source"] = normalise_source(spec["source"], f"groups.{group}.source")
    spec.pop("enabled", None)
    return {"group": group, **spec, **shape}


#: The inversion keys a model may override (``models.<name>.inversion``): the optimiser's effort only, never
#: which images are inverted, so every model's inversions stay aligned image for image.
INVERSION_OVERRIDE_KEYS = ("n_candidates", "n_restarts", "n_steps", "lr", "batch_size")


def inversion_params(config: dict[str, Any], model: str | None = None) -> dict[str, Any]:
    """The inversion settings of one shard of ``model`` (every group's shards share them; the group list is
    not one): the ``inversion`` section with the model's own ``models.<model>.inversion`` merged over it
    (more restarts and steps for a large latent space, so an optimisation failure is ruled out)."""
    out = {k: v for k, v in config["inversion"].items() if k != "groups"}
    if model is not None:
        override = config["models"][model].get("inversion") or {}
        unknown = sorted(set(override) - set(INVERSION_OVERRIDE_KEYS))
        if unknown:
            raise ConfigError(f"config: models.{model}.inversion: unknown key(s) {unknown} "
                              f"(allowed: {list(INVERSION_OVERRIDE_KEYS)})")
        out.update(override)
    return out


def model_spec(config: dict[str, Any], model: str) -> dict[str, Any]:
    """What a model's artifact (``results/models/{model}/generator.pt``) depends on: its config entry without
    the per-model inversion settings, so more inversion effort never retrains the model."""
    return {k: v for k, v in config["models"][model].items() if k != "inversion"}


def ais_n_images(config: dict[str, Any], group: str) -> int:
    """Images of ``group`` whose log-likelihood is estimated."""
    return int(config["ais"]["n_images_by_group"].get(group, config["ais"]["n_images"]))


def ais_setting(config: dict[str, Any]) -> dict[str, Any]:
    """The AIS estimator setting (preset, overrides, batch size): what every AIS estimate depends on."""
    a = config["ais"]
    return {"preset": a["preset"], "overrides": a["overrides"], "batch_size": a["batch_size"],
            "exact_when_known": a["exact_when_known"]}


def encoder_params(config: dict[str, Any]) -> dict[str, Any] | None:
    """The amortised start's training setting (`ganaudit.density.encoder.EncoderConfig`), or None where the run has
    no encoder: ``ais.encoder.steps`` is 0 or the estimator does not start from the posterior (no mode search)."""
    enc = dict(config["ais"].get("encoder") or {})
    if not enc.get("steps"):
        return None
    from ganaudit.density.ais import config_from_params   # torch: only where an encoder is asked for

    return enc if config_from_params(ais_setting(config)).start == "posterior" else None


def ais_params(config: dict[str, Any], group: str) -> dict[str, Any]:
    """One AIS shard's settings: the estimator setting, the shard size and this group's image count."""
    return {**ais_setting(config), "shard_size": config["ais"]["shard_size"], "n_images": ais_n_images(config, group)}


# ---------------------------------------------------------------------------------------------- beyond the paper



def beyond_plan(config: dict[str, Any]) -> dict[str, str | None]:
    """For each audit of `ganaudit.audits.registry.AUDITS`: None when the run makes it, else why not (one sentence
    for the tables and the findings page). An audit whose entry says ``needs_train`` is skipped without training
    images (coverage runs without them, on the samples' own covariance spectrum; τ of the birthday test is
    calibrated on training images, memorisation measures the distance to them, and train-on-generated compares
    with a classifier trained on them)."""
    has_train = config["dataset"]["source"]["kind"] != "none"
    gans = [m for m, s in config["models"].items() if s.get("role", "gan") == "gan"]
    out: dict[str, str | None] = {}
    for test, audit in AUDITS.items():
        if not config["beyond"].get(test, {}).get("enabled", True):
            out[test] = f"disabled in the config: beyond.{test}.enabled is false"
        elif not (gans if audit.models == "gans" else config["models"]):
            out[test] = "no model has role gan"
        elif not has_train and audit.needs_train:
            out[test] = "no training images in this run: dataset.source.kind is none"
        else:
            out[test] = None
    return out


def beyond_params(config: dict[str, Any], test: str) -> dict[str, Any]:
    """One test's settings (``beyond.<test>`` without ``enabled``; an audit without a section has none): what its
    artifact depends on."""
    return {k: v for k, v in config["beyond"].get(test, {}).items() if k != "enabled"}


def real_feature_spaces(config: dict[str, Any]) -> list[str]:
    """The feature spaces rule ``real_features`` embeds the run's real images in (`ganaudit.audits.real_features`):
    those the running audits that read the cache (registry input ``features``) use: the perceptual distance for
    support and memorisation; for the metrics, ``beyond.metrics.spaces`` but ``pixels`` (the images themselves),
    ``classifier`` only when the run trains one, and ``inception``/``dinov2`` when ``beyond.metrics.weights`` names
    a file. Empty without training images (no cache)."""
    if config["dataset"]["source"]["kind"] == "none":
        return []
    plan = beyond_plan(config)
    running = [t for t, a in AUDITS.items() if "features" in a.inputs and plan[t] is None]
    wanted: list[str] = []
    for test in running:
        if test == "metrics":
            m = config["beyond"].get("metrics", {})
            weights = m.get("weights") or {}
            spaces = list(m.get("spaces", [])) + [s for s in ("inception", "dinov2") if weights.get(s)]
            has_classifier = bool(config.get("classifier", {}).get("enabled", True))
            wanted += [s for s in spaces if s != "pixels" and (s != "classifier" or has_classifier)
                       and (s not in ("inception", "dinov2") or weights.get(s))]
        else:
            wanted.append("perceptual")
    return [s for s in ("perceptual", "classifier", "inception", "dinov2") if s in wanted]


def latent_sweep_models(config: dict[str, Any]) -> dict[str, list[str]]:
    """The models of the latent-size sweep, by kind: every kind with models at ≥ 2 different latent sizes,
    each kind's models ordered by latent size. ``beyond.latent_sweep.enabled``: null (automatic) takes these;
    false none; true these, and a one-line error when there are none."""
    flag = config["beyond"]["latent_sweep"]["enabled"]
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for name, spec in config["models"].items():
        if spec.get("latent_dim") is not None:
            by_kind.setdefault(spec["kind"], []).append((int(spec["latent_dim"]), name))
    sweep = {kind: [n for _, n in sorted(ms)] for kind, ms in by_kind.items() if len({d for d, _ in ms}) >= 2}
    if flag is False:
        return {}
    if flag and not sweep:
        raise ConfigError("config: beyond.latent_sweep.enabled: true, but no model kind has models at two or more "
                          "different latent sizes (models.<name>.latent_dim)")
    return sweep


# ---------------------------------------------------------------------------------------------- report


def digest(value: Any) -> str:
    """A short digest of a JSON-serialisable value (stamps the findings page with the config it describes)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def findings_stamp(params: Any) -> str:
    """The first line of a findings page made for ``params`` (an reStructuredText comment)."""
    return f".. ganaudit findings {digest(params)}"


def front_page(page: str | Path, params: Any, pending: str | Path) -> str:
    """The report's front page: ``page`` when it exists and was made for ``params`` (its first line is
    `findings_stamp`), else ``pending`` (a page saying the findings are not computed yet) — never a page made
    for another configuration."""
    page = Path(page)
    if page.exists():
        with page.open() as f:
            if f.readline().strip() == findings_stamp(params):
                return str(page)
    return str(pending)
