"""What every pipeline script does first (`ganaudit.workflow.runtime.setup`)."""

import subprocess
import sys


def test_a_jobs_progress_goes_to_its_log_and_only_errors_reach_the_console(tmp_path):
    """Parallel jobs must not interleave progress bars on the terminal: a job's stderr (logging, tqdm bars,
    warnings, C-level writes) goes to its log file; the console sees only errors."""
    log = tmp_path / "job.log"
    script = f"""
import logging, os, sys, warnings
from tqdm import tqdm
from ganaudit.workflow import runtime
log = runtime.setup({str(log)!r})
log.info("an info line")
for _ in tqdm(range(3), desc="a progress bar"):
    pass
warnings.warn("a warning")
os.write(2, b"a C-level write\\n")
log.error("an error line")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    text = log.read_text()
    for what in ("an info line", "a progress bar", "a warning", "a C-level write", "an error line"):
        assert what in text, what
    assert "an error line" in proc.stderr
    assert "an info line" not in proc.stderr and "a progress bar" not in proc.stderr


def test_model_figure_args_are_the_figure_scripts_main_arguments():
    from types import SimpleNamespace

    from ganaudit.workflow import runtime

    smk = SimpleNamespace(input=SimpleNamespace(artifact="results/support/gan.h5"),
                          output=SimpleNamespace(png="f.png", pdf="f.pdf"), wildcards=SimpleNamespace(model="gan"),
                          params={"dpi": 150, "n_examples": 8})
    assert runtime.model_figure_args(smk) == ("results/support/gan.h5", "f.png", "f.pdf", "gan",
                                              {"dpi": 150, "n_examples": 8})
