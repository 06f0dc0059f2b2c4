"""ganaudit.metrics.flat: the flat record of one model from the run's tables."""

import json

import numpy as np
import pandas as pd

from ganaudit.metrics.flat import flat_metrics, metric_key


def test_flat_record_keys_values_and_provenance():
    metrics = pd.DataFrame({
        "model": ["gan", "gan", "gan", "vae", "gan"], "samples": ["model", "model", "memorising", "model", "model"],
        "metric": ["fd", "vendi", "ct", "fd", "ppl_mean"], "feature_space": ["classifier", "pixels", "pixels", "classifier", "perceptual"],
        "class": ["all", "0", "all", "all", "all"], "value": [0.5, 12.0, -20.0, 2.0, np.nan],
        "low": [0.4, np.nan, np.nan, 1.0, np.nan], "high": [0.6, np.nan, np.nan, 3.0, np.nan], "n": [1000, 333, 1000, 1000, 0],
        "n_reference": [2000, 0, 1000, 2000, 0], "reference": ["train", "none", "test", "train", "none"],
        "settings": ["20 bootstrap", "cosine", "10 cells", "20 bootstrap", "skipped: no generator"]})
    support = pd.DataFrame({"model": ["gan", "gan", "vae"], "distance": ["L2", "L2", "L2"],
                            "pool": ["samples", "training images", "samples"], "k_hat": [3.9e4, 3.8e5, 1.0],
                            "collision": [True, False, True]})
    table1 = pd.DataFrame({"quantity": ["x"], "value": [1.0]})                 # no model column: nothing of a model
    rec = flat_metrics("gan", {"metrics": metrics, "support": support, "table1": table1})
    assert rec["metrics"]["fd.classifier"] == {"value": 0.5, "low": 0.4, "high": 0.6, "feature_space": "classifier",
                                               "n": 1000, "n_reference": 2000, "reference": "train",
                                               "settings": "20 bootstrap"}
    assert rec["metrics"]["vendi.pixels.class_0"]["value"] == 12.0 and metric_key("vendi", "pixels") == "vendi.pixels"
    assert rec["metrics"]["ppl_mean.perceptual"]["value"] is None                    # skipped: null, reason kept
    assert rec["references"]["memorising"]["ct.pixels"]["value"] == -20.0 and rec["references"]["fresh"] == {}
    assert rec["tables"] == {"support.k_hat.L2.samples": 3.9e4, "support.collision.L2.samples": True,
                             "support.k_hat.L2.training_images": 3.8e5, "support.collision.L2.training_images": False}
    json.dumps(rec, allow_nan=False)                                                 # valid JSON, no NaN
