"""The metrics audit's findings line (`ganaudit.findings.metrics_finding`) and its figure."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ganaudit.findings import CT_COPYING_Z, Verdict, metrics_finding
from ganaudit.plots.audits import METRIC_PANELS, metrics_summary


def _table(ct_model):
    rows = []
    for samples, ct in (("model", ct_model), ("memorising", -25.0), ("fresh", 0.4)):
        for space in ("classifier", "pixels"):
            rows.append(dict(model="gan", samples=samples, metric="ct", feature_space=space, value=ct))
            rows.append(dict(model="gan", samples=samples, metric="fd", feature_space=space, value=0.5, low=0.4, high=0.7))
    rows.append(dict(model="gan", samples="model", metric="ppl_mean", feature_space="perceptual", value=12.0))
    rows.append(dict(model="vae", samples="model", metric="ct", feature_space="pixels", value=-30.0))
    t = pd.DataFrame(rows).assign(**{"class": "all"})
    return t.reindex(columns=[*t.columns, "n"]).fillna({"low": np.nan, "high": np.nan})


def test_metrics_finding_holds_unless_ct_is_below_the_rule():
    ok = metrics_finding(_table(-1.0), "gan")
    assert ok["holds"] is Verdict.REPRODUCED
    assert "classifier: C_T = -1.00 (memorising -25.0, fresh data 0.40)" in ok["text"]
    assert "FD on classifier features 0.5 [0.4, 0.7]" in ok["text"]
    assert metrics_finding(_table(CT_COPYING_Z - 0.01), "gan")["holds"] is Verdict.NOT_REPRODUCED
    assert metrics_finding(_table(-1.0)[lambda d: d.metric != "ct"], "gan")["holds"] is Verdict.CANNOT_TEST


def test_metrics_figure_has_a_panel_per_metric_and_the_references():
    fig = metrics_summary("gan", _table(-1.0)[lambda d: d.model == "gan"], ["a note"])   # one model's artifact
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(METRIC_PANELS)
    ct_ax = next(ax for ax in visible if ax.get_title() == "ct")
    heights = sorted(round(p.get_height(), 6) for p in ct_ax.patches)
    assert heights == [-25.0, -25.0, -1.0, -1.0, 0.4, 0.4]                 # 2 spaces × (model, memorising, fresh)
    assert "PPL 12" in fig._suptitle.get_text()
