"""ganaudit.audits.registry: one entry per audit, read by every place that lists them; a new audit is one entry and
one module (tests/workflow/test_new_audit.py adds one and sees its rule, table, figure and finding planned)."""

import yaml
from conftest import REPO

from ganaudit.audits import common
from ganaudit.audits.registry import AUDITS, config_value, module_file, resolve
from ganaudit.workflow import plan, runtime

INPUTS = {"generator", "train", "test", "classifier", "features"}  # rules/beyond.smk AUDIT_INPUTS


def test_every_entry_names_what_exists():
    default = yaml.safe_load((REPO / "config.yaml").read_text())
    for name, audit in AUDITS.items():
        assert audit.name == name
        assert callable(resolve(audit.stage)) and callable(resolve(audit.finding))
        assert (REPO / module_file(audit.stage)).is_file()
        assert set(audit.inputs) <= INPUTS and "generator" in audit.inputs
        assert audit.tables and len({t for t, _, _ in audit.tables}) == len(audit.tables)
        if audit.figure:
            assert (REPO / "scripts" / "figures" / f"{audit.figure[0]}.py").is_file()
        for key in audit.config.values():
            assert key.split(".")[0] in default, (name, key)
    tables = [t for a in AUDITS.values() for t in a.table_names]
    assert len(tables) == len(set(tables))


def test_seed_offsets_are_distinct_from_each_other_and_the_paper_stages():
    offsets = [a.seed_offset for a in AUDITS.values()]
    assert len(set(offsets)) == len(offsets)
    assert not set(offsets) & set(runtime.SEED_OFFSETS.values())
    assert runtime.seed_for(5, "support", AUDITS["support"].seed_offset) == 5 + 8_000_009


def test_resolve_config_value_and_module_file():
    assert resolve("ganaudit.audits.common:gather_tables") is common.gather_tables
    assert config_value({"classifier": {"train": {"steps": 3}}}, "classifier.train") == {"steps": 3}
    assert config_value({"classifier": {}}, "classifier.train") == {}
    assert module_file("ganaudit.audits.tgtr:stage") == "ganaudit/audits/tgtr.py"


def test_the_plan_skips_by_needs_train():
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["dataset"]["source"] = {"kind": "none"}
    why = plan.beyond_plan(cfg)
    assert set(why) == set(AUDITS)
    for name, audit in AUDITS.items():
        assert (why[name] is not None) == audit.needs_train


def test_gathered_tables_follow_the_entry(tmp_path):
    import pandas as pd

    tree, attrs = common.write_frames({"table": pd.DataFrame({"a": [1]}), "spectrum": pd.DataFrame({"b": [2.0]})})
    path = tmp_path / "gan.h5"
    common.write_audit(path, tree, attrs, {"seed": 0}, 0, ["a note"])
    out = common.gather_tables("coverage", [path])
    assert list(out) == AUDITS["coverage"].table_names
    assert out["coverage"][1] == AUDITS["coverage"].tables[0][2] and out["coverage"][2] == ["gan: a note"]
    assert out["coverage_spectrum"][2] == [] and out["coverage_spectrum"][0]["b"].tolist() == [2.0]
