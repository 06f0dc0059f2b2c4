"""What every pipeline script does first: log to the rule's log file, pin torch to the rule's threads,
and derive seeds. Kept in the library so scripts stay a few lines long."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

SEED_OFFSETS = {"train": 0, "generated": 1_000_003, "generated_calibration": 2_000_003, "inversion": 3_000_017,
                "ais": 4_000_037, "validation": 5_000_011, "quality": 6_000_001, "typicality": 7_000_003,
                "encoder": 20_000_003}   # far above the audits' offsets (ganaudit.audits.registry)
"""The paper stages' streams of random numbers; an audit's is its registry entry's ``seed_offset``
(`ganaudit.audits.registry`), passed to `seed_for` by its script, so that adding an audit touches no other job."""


def setup(log_path: str | None, threads: int | None = None, name: str = "ganaudit") -> logging.Logger:
    """Send the job's output to the rule's log file; set torch threads.

    With a log file, everything the job writes to stderr (logging, progress bars, warnings, and C-level
    writes to file descriptor 2) goes to the log, so parallel jobs do not interleave their progress bars on
    the terminal: the console shows Snakemake's job progress and, from the job, only errors (one line).
    """
    handlers: list[logging.Handler] = []
    if log_path:
        console = os.fdopen(os.dup(2), "w", buffering=1)  # the terminal, kept for errors
        logfile = open(log_path, "w", buffering=1)
        os.dup2(logfile.fileno(), 2)
        sys.stderr = logfile
        handlers.append(logging.StreamHandler(logfile))
        err = logging.StreamHandler(console)
        err.setLevel(logging.ERROR)
        handlers.append(err)
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        handlers=handlers, force=True)
    logger = logging.getLogger(name)

    def _hook(exc_type, exc, tb):
        logger.error("%s: %s", exc_type.__name__, exc, exc_info=(exc_type, exc, tb))

    sys.excepthook = _hook
    if threads and "torch" in sys.modules:  # scripts that use torch have imported it by now
        import torch

        torch.set_num_threads(int(threads))
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    return logger


def seed_for(base: int, stage: str, offset: int | None = None) -> int:
    """A stage-specific seed, so stages draw independent random numbers from one config seed: ``base`` plus the
    stage's `SEED_OFFSETS` entry, or plus ``offset`` when given (an audit's registry ``seed_offset``)."""
    return int(base) + (SEED_OFFSETS[stage] if offset is None else int(offset))


def device(name: str):
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config: device is 'cuda' but torch sees no CUDA device on this machine")
    return torch.device(name)


def as_dict(params: Any) -> dict[str, Any]:
    """snakemake.params → plain dict (JSON-serialisable, for the artifact's config attr)."""
    return {k: v for k, v in dict(params).items()}


def model_figure_args(smk: Any) -> tuple[str, str, str, str, dict[str, Any]]:
    """``(artifact, png, pdf, model, params)`` of a per-model figure job (input ``artifact``, outputs ``png`` and
    ``pdf``, wildcard ``model``): the arguments of the beyond-the-paper figure scripts' ``main``."""
    return smk.input.artifact, smk.output.png, smk.output.pdf, smk.wildcards.model, as_dict(smk.params)
