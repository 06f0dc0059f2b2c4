"""One model's numbers as a flat, machine-readable record (``results/metrics/{model}.json``): the metrics under
their conventional keys (``fd.classifier``, ``kd_mean.pixels``, ``ct.perceptual``, ``vendi.pixels.class_0``, …),
each with its feature space, n, reference split and settings; the references' under ``references``; and every
other scalar of the run's tables that belongs to the model under ``tables`` (``<table>.<column>.<row labels>``).
Reads tables only (pandas), no torch."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["SAMPLES", "metric_key", "metric_records", "table_scalars", "flat_metrics"]

SAMPLES = {"model": "the model's samples", "memorising": "training images (a memorising generator)",
           "fresh": "held-out images (fresh data)"}
"""The metrics table's ``samples`` column: whose images a row measures (`ganaudit.audits.metrics`)."""


def _scalar(v: Any) -> Any:
    if isinstance(v, bool) or hasattr(v, "dtype") and str(getattr(v, "dtype", "")) == "bool":
        return bool(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f) or math.isinf(f):
        return None
    return int(f) if isinstance(v, int) or (hasattr(v, "dtype") and "int" in str(v.dtype)) else f


def metric_key(metric: str, space: str, cls: Any = "all") -> str:
    """``metric.space`` (``fd.classifier``), with ``.class_<c>`` for a per-class value."""
    c = str(cls)
    return f"{metric}.{space}" if c == "all" else f"{metric}.{space}.class_{c}"


def metric_records(table: pd.DataFrame, model: str, samples: str = "model") -> dict[str, dict[str, Any]]:
    """``{key: {value, low, high, feature_space, n, n_reference, reference, settings}}`` of one model's rows of the
    metrics table (`ganaudit.audits.metrics.COLUMNS` plus ``model``) for ``samples`` (``model``, ``memorising``,
    ``fresh``)."""
    sub = table[(table.model.astype(str) == model) & (table.samples.astype(str) == samples)]
    out = {}
    for rec in sub.to_dict("records"):
        out[metric_key(rec["metric"], rec["feature_space"], rec["class"])] = {
            k: _scalar(rec[k]) for k in ("value", "low", "high", "feature_space", "n", "n_reference", "reference",
                                         "settings")}
    return out


def table_scalars(name: str, table: pd.DataFrame, model: str) -> dict[str, Any]:
    """Every numeric or boolean cell of ``table``'s rows for ``model`` (tables without a ``model`` column hold
    nothing of one model): ``{"<name>.<column>.<row labels>": value}``, the row labels being the row's text cells
    (spaces as ``_``), and ``#<i>`` added when labels repeat."""
    if "model" not in table.columns:
        return {}
    sub = table[table.model.astype(str) == model]
    numeric = pd.api.types.is_numeric_dtype
    labels = [c for c in sub.columns if c != "model" and not numeric(sub[c]) and not pd.api.types.is_bool_dtype(sub[c])]
    values = [c for c in sub.columns if c != "model" and c not in labels]
    out: dict[str, Any] = {}
    for i, rec in enumerate(sub.to_dict("records")):
        tag = ".".join(str(rec[c]).replace(" ", "_") for c in labels if pd.notna(rec[c]))
        for c in values:
            key = f"{name}.{c}" + (f".{tag}" if tag else "")
            if key in out:
                key = f"{key}#{i}"
            out[key] = _scalar(rec[c])
    return out


def flat_metrics(model: str, tables: Mapping[str, pd.DataFrame], metrics: str = "metrics") -> dict[str, Any]:
    """The record of ``model``: ``{"model", "metrics", "references": {"memorising", "fresh"}, "tables"}`` from the
    run's tables ``{name: frame}`` (the metrics table under the name ``metrics``)."""
    m = tables.get(metrics)
    rec: dict[str, Any] = {"model": model, "metrics": {}, "references": {}, "tables": {}}
    if m is not None and len(m):
        rec["metrics"] = metric_records(m, model)
        rec["references"] = {w: metric_records(m, model, w) for w in ("memorising", "fresh")}
    for name, t in sorted(tables.items()):
        if name != metrics:
            rec["tables"].update(table_scalars(name, t, model))
    return rec
