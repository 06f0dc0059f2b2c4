"""A real single-node SLURM cluster for tests: MUNGE + slurmctld + slurmd on this machine.

Everything the cluster writes (``slurm.conf``, ``cgroup.conf``, the MUNGE key and socket, spool and
state folders, pid files, logs) lives in one temporary folder per cluster; nothing under ``/etc``,
``/run`` or ``/var`` is touched. Client tools and Snakemake find the cluster through ``SLURM_CONF``
(see `SlurmCluster.env`); the daemons listen on free TCP ports picked at start, so two clusters in a
row (or a cluster next to a system SLURM) do not collide.

Needs root (the daemons run as root and jobs run as the calling user, root) and the Debian packages
``slurmctld slurmd slurm-client munge``, which `install_slurm` installs through
``scripts/ci/install_slurm.sh``.

Typical use (the pytest fixture in ``tests/workflow/test_slurm.py`` does exactly this)::

    from slurm_cluster import start_cluster
    cluster = start_cluster()              # installs if needed, starts, waits until the node is idle
    try:
        subprocess.run(["sbatch", "--wrap", "hostname"], env=cluster.env, check=True)
    finally:
        cluster.stop()                     # scancel, then SIGTERM/SIGKILL exactly the daemons it started

or ``with SlurmCluster() as cluster: ...`` once SLURM is installed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "ci" / "install_slurm.sh"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENT_TOOLS = ("sbatch", "squeue", "sinfo", "scontrol", "scancel", "srun")
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


class SlurmUnavailable(RuntimeError):
    """SLURM cannot be installed or started here for a reason outside the code (not root, no apt-get)."""


class SlurmStartError(RuntimeError):
    """The cluster's daemons did not come up; the message carries the tails of their logs."""


def _path_with_sbin(path: str | None = None) -> str:
    """``path`` (default ``$PATH``) with the sbin folders appended, where Debian puts the daemons."""
    parts = (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep)
    parts += [p for p in _SBIN.split(":") if p not in parts]
    return os.pathsep.join(p for p in parts if p)


def _which(tool: str) -> str | None:
    return shutil.which(tool, path=_path_with_sbin())


_SHIM_MARK = "# shim written by tests/slurm_cluster.py"


def _real_tool(tool: str) -> str | None:
    """The first ``tool`` on PATH (+ sbin) that is not one of our SLURM_CONF shims."""
    for folder in _path_with_sbin().split(os.pathsep):
        cand = shutil.which(tool, path=folder)
        if cand is None:
            continue
        try:
            with open(cand, "rb") as fh:
                if _SHIM_MARK.encode() in fh.read(200):
                    continue
        except OSError:
            continue
        return cand
    return None


def slurm_installed() -> bool:
    """True when the daemons (``munged``, ``slurmctld``, ``slurmd``) and the client tools are on PATH."""
    return all(_which(t) for t in DAEMONS + CLIENT_TOOLS)


def slurm_unavailable_reason() -> str | None:
    """Why SLURM cannot be installed/started here (not root; no apt-get and not installed), or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the SLURM tests need root (they start munged, slurmctld and slurmd)"
    if not slurm_installed() and shutil.which("apt-get") is None:
        return "SLURM is not installed and apt-get is not available to install it"
    return None


def install_slurm(timeout: float = 900.0) -> float:
    """Install SLURM + MUNGE with ``scripts/ci/install_slurm.sh`` (a no-op when installed).

    Returns the seconds it took. Raises `SlurmUnavailable` when not root / no apt-get, and
    `RuntimeError` with the script's output when the installation fails.
    """
    reason = slurm_unavailable_reason()
    if reason is not None:
        raise SlurmUnavailable(reason)
    t0 = time.monotonic()
    if not slurm_installed():
        proc = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PATH": _path_with_sbin()},
        )
        if proc.returncode != 0 or not slurm_installed():
            raise RuntimeError(
                f"{INSTALL_SCRIPT} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
    return time.monotonic() - t0


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mem_total_mb() -> int:
    """Physical memory in MiB, from /proc/meminfo (the figure ``free -m`` shows as total)."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("/proc/meminfo has no MemTotal line")


def _tail(path: Path, n_lines: int = 25) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"--- {path}: (missing)"
    return f"--- {path} (last {min(n_lines, len(lines))} lines):\n" + "\n".join(lines[-n_lines:])


class SlurmCluster:
    """A single-node SLURM cluster (MUNGE, slurmctld, slurmd) with all its state in one folder.

    Args:
        workdir: folder for conf, keys, spool, state and logs; a fresh ``mkdtemp`` folder (removed
            again by `stop`) when None. A given folder is kept after `stop` (its logs stay readable).
        partitions: partition names, all on the one node; the first is the default partition.
            The default ``("debug", "gpu")`` gives the profile's GPU rules somewhere to go (the node
            has no GPUs; the partition only tests routing).
        cpus: CPUs of the node (default: ``os.cpu_count()``).
        real_memory_mb: memory of the node in MiB (default: 95 % of MemTotal).
        def_mem_per_cpu_mb: memory a job gets per CPU when it asks for none (default: 512 MiB, at most
            ``real_memory_mb / cpus``), so that jobs without ``--mem`` do not take the whole node.
        min_job_age_s: seconds a finished job stays visible to ``squeue`` (``MinJobAge``); the
            Snakemake plugin's squeue mode needs it ≥ 3 × ``slurm-init-seconds-before-status-checks``.
        start_timeout_s: seconds to wait for the node to become idle before `start` gives up.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        partitions: Sequence[str] = ("debug", "gpu"),
        cpus: int | None = None,
        real_memory_mb: int | None = None,
        def_mem_per_cpu_mb: int = 512,
        min_job_age_s: int = 300,
        start_timeout_s: float = 60.0,
    ) -> None:
        if not partitions:
            raise ValueError("partitions: expected at least one partition name (got none)")
        self.partitions: tuple[str, ...] = tuple(partitions)
        self.cpus: int = int(cpus or os.cpu_count() or 1)
        if self.cpus < 1:
            raise ValueError(f"cpus: expected ≥ 1 (got {self.cpus})")
        self.real_memory_mb: int = int(real_memory_mb or _mem_total_mb() * 95 // 100)
        self.def_mem_per_cpu_mb: int = max(1, min(def_mem_per_cpu_mb, self.real_memory_mb // self.cpus))
        self.min_job_age_s: int = int(min_job_age_s)
        self.start_timeout_s: float = float(start_timeout_s)
        self._given_workdir = Path(workdir) if workdir is not None else None
        self.root: Path | None = None
        self.hostname: str = socket.gethostname().split(".")[0]
        self.node_name: str = self.hostname
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._log_handles: list = []
        self._stopped = True

    # ------------------------------------------------------------------ paths
    def _p(self, *parts: str) -> Path:
        if self.root is None:
            raise RuntimeError("SlurmCluster: not started (call start() or use it as a context manager)")
        return self.root.joinpath(*parts)

    @property
    def conf_path(self) -> Path:
        """The cluster's ``slurm.conf``."""
        return self._p("etc", "slurm.conf")

    @property
    def munge_socket(self) -> Path:
        return self._p("munge", "munge.socket")

    @property
    def log_dir(self) -> Path:
        return self._p("log")

    @property
    def default_partition(self) -> str:
        return self.partitions[0]

    @property
    def env(self) -> dict[str, str]:
        """Environment for client tools and Snakemake: ``os.environ`` + ``SLURM_CONF`` + PATH.

        SLURM_* variables inherited from an outer job are dropped, so commands talk to this cluster.
        PATH starts with the cluster's ``bin/`` of client-tool shims (see `_write_shims`) and ends
        with the sbin folders.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))}
        env["SLURM_CONF"] = str(self.conf_path)
        env["PATH"] = _path_with_sbin(os.pathsep.join([str(self._p("bin")), env.get("PATH", "")]))
        return env

    # ------------------------------------------------------------- lifecycle
    def __enter__(self) -> "SlurmCluster":
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> "SlurmCluster":
        """Write the config, start munged, slurmctld and slurmd, and wait until the node is idle.

        Raises `SlurmUnavailable` when the binaries are missing and `SlurmStartError` (with the
        daemons' log tails) when the node is not idle within ``start_timeout_s``.
        """
        if not self._stopped:
            raise RuntimeError("SlurmCluster: already started")
        missing = [t for t in DAEMONS + CLIENT_TOOLS if not _which(t)]
        if missing:
            raise SlurmUnavailable(f"SLURM/MUNGE not installed: {', '.join(missing)} not on PATH (run {INSTALL_SCRIPT})")
        if self._given_workdir is not None:
            self.root = self._given_workdir
            self.root.mkdir(parents=True, exist_ok=True)
        else:
            # short prefix: the MUNGE socket path must fit in sun_path (108 bytes)
            self.root = Path(tempfile.mkdtemp(prefix="slurm-"))
        self._stopped = False
        atexit.register(self.stop)
        try:
            self._write_config()
            self._start_munged()
            self._start_daemon("slurmctld", [_which("slurmctld") or "slurmctld", "-D", "-i", "-f", str(self.conf_path)])
            self._wait_for("slurmctld to answer", lambda: self._client_ok(["scontrol", "ping"], "UP"))
            self._start_daemon(
                "slurmd", [_which("slurmd") or "slurmd", "-D", "-N", self.node_name, "-f", str(self.conf_path)]
            )
            self._wait_for(f"node {self.node_name} to be idle", self._node_idle)
        except BaseException:
            self.stop(remove=False)
            raise
        return self

    def stop(self, remove: bool | None = None) -> None:
        """Cancel all jobs, then stop exactly the daemons this object started (SIGTERM, then SIGKILL).

        Idempotent. ``remove`` (default: True for a ``mkdtemp`` workdir, False for a given one) deletes
        the cluster folder afterwards.
        """
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None:
            try:
                subprocess.run(
                    ["scancel", "--quiet", "--full", "--user", str(os.getuid())],
                    env=self.env, capture_output=True, timeout=15,
                )
                # wait (≤ 15 s) until no job is running or completing, so no slurmstepd outlives slurmd
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    busy = self.run(["squeue", "-h", "-t", "R,CG", "-o", "%i"], check=False, timeout=10)
                    if busy.returncode != 0 or not busy.stdout.strip():
                        break
                    time.sleep(0.5)
            except (OSError, subprocess.SubprocessError):
                pass
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self._procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self._procs.clear()
        for fh in self._log_handles:
            fh.close()
        self._log_handles.clear()
        if remove is None:
            remove = self._given_workdir is None
        if remove and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---------------------------------------------------------------- helpers
    def run(self, args: Sequence[str], *, check: bool = True, timeout: float = 60.0, **kwargs) -> subprocess.CompletedProcess[str]:
        """Run a client command (``sbatch``, ``squeue``, …) against this cluster; text output captured."""
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, check=check, timeout=timeout, **kwargs)

    def job_state(self, job_id: int | str) -> str:
        """The job's state as ``squeue`` reports it (``PENDING``, ``RUNNING``, ``COMPLETED``, …), or ``""``."""
        out = self.run(["squeue", "-h", "-j", str(job_id), "-t", "all", "-o", "%T"], check=False).stdout
        return out.strip().splitlines()[0] if out.strip() else ""

    def wait_for_job(self, job_id: int | str, timeout: float = 60.0) -> str:
        """Wait until a job leaves PENDING/RUNNING/COMPLETING; return its final state (e.g. ``COMPLETED``)."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.job_state(job_id)
            if state and state not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED"):
                return state
            time.sleep(0.25)
        raise TimeoutError(f"SLURM job {job_id}: still {state or 'unknown'} after {timeout:.0f} s\n{self.log_tails()}")

    def log_tails(self, n_lines: int = 25) -> str:
        """The last lines of every daemon log (conf-configured logs and captured stdout/stderr)."""
        if self.root is None:
            return "(cluster never started)"
        files = sorted(self.log_dir.glob("*")) if self.log_dir.exists() else []
        return "\n".join(_tail(f, n_lines) for f in files) or "(no logs)"

    def _client_ok(self, args: Sequence[str], needle: str) -> bool:
        try:
            proc = self.run(args, check=False, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return False
        return proc.returncode == 0 and needle in proc.stdout

    def _node_idle(self) -> bool:
        try:
            proc = self.run(["sinfo", "-h", "-N", "-n", self.node_name, "-o", "%T"], check=False, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return False
        states = {s.strip().rstrip("*") for s in proc.stdout.split()}
        return proc.returncode == 0 and states == {"idle"}

    def _wait_for(self, what: str, ready) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            for name, proc in self._procs.items():
                if proc.poll() is not None:
                    raise SlurmStartError(f"{name} exited with status {proc.returncode} while waiting for {what}\n{self.log_tails()}")
            if ready():
                return
            time.sleep(0.2)
        raise SlurmStartError(f"timed out after {self.start_timeout_s:.0f} s waiting for {what}\n{self.log_tails()}")

    def _start_daemon(self, name: str, argv: list[str]) -> None:
        out = open(self.log_dir / f"{name}.stdout", "ab")
        self._log_handles.append(out)
        self._procs[name] = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, start_new_session=True
        )

    def _start_munged(self) -> None:
        key = self._p("munge", "munge.key")
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        self._start_daemon(
            "munged",
            [
                _which("munged") or "munged", "--foreground", "--force",
                f"--socket={self.munge_socket}", f"--key-file={key}",
                f"--pid-file={self._p('run', 'munged.pid')}", f"--log-file={self._p('log', 'munged.log')}",
                f"--seed-file={self._p('munge', 'munged.seed')}",
            ],
        )
        self._wait_for("the MUNGE socket", self.munge_socket.exists)

    def _write_shims(self) -> None:
        """Client-tool shims in ``bin/`` that default ``SLURM_CONF`` to this cluster's config.

        The jobs' environment carries SLURM_CONF (sbatch exports it), but
        snakemake-executor-plugin-slurm-jobstep (0.6.x) removes every SLURM_* variable except the
        job's identity before it calls ``srun`` inside the job; srun then looks for
        /etc/slurm/slurm.conf and fails ("Could not establish a configuration source"). PATH
        survives, so the shims, first on PATH, put SLURM_CONF back (an explicit one wins).
        """
        for tool in CLIENT_TOOLS + ("sacct", "sacctmgr", "sshare"):
            real = _real_tool(tool)
            if real is None:
                continue
            shim = self._p("bin", tool)
            shim.write_text(f'#!/bin/sh\n{_SHIM_MARK}\n: "${{SLURM_CONF:={self.conf_path}}}"\nexport SLURM_CONF\nexec {real} "$@"\n')
            os.chmod(shim, 0o755)

    def _write_config(self) -> None:
        for sub in ("etc", "bin", "munge", "run", "log", "state", "spool"):
            self._p(sub).mkdir(mode=0o700, exist_ok=True)
            os.chmod(self._p(sub), 0o700)
        # munged wants its socket folder (and the path to it) searchable by all; the key stays 0400
        os.chmod(self.root, 0o711)
        os.chmod(self._p("munge"), 0o711)
        ctld_port, slurmd_port = _free_port(), _free_port()
        while slurmd_port == ctld_port:
            slurmd_port = _free_port()
        p = {k: str(self._p(k)) for k in ("run", "log", "state", "spool")}
        lines = [
            "# written by tests/slurm_cluster.py: a throwaway single-node test cluster",
            "ClusterName=ganaudit-test",
            f"SlurmctldHost={self.hostname}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={slurmd_port}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={p['state']}",
            f"SlurmdSpoolDir={p['spool']}",
            f"SlurmctldPidFile={p['run']}/slurmctld.pid",
            f"SlurmdPidFile={p['run']}/slurmd.pid",
            f"SlurmctldLogFile={p['log']}/slurmctld.log",
            f"SlurmdLogFile={p['log']}/slurmd.log",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "MailProg=/bin/true",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "SchedulerType=sched/builtin",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            f"DefMemPerCPU={self.def_mem_per_cpu_mb}",
            f"MinJobAge={self.min_job_age_s}",
            "ReturnToService=2",
            "SlurmdParameters=config_overrides",
            "PropagateResourceLimits=NONE",
            "KillWait=5",
            "InactiveLimit=0",
            "Waittime=0",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=60",
            "MessageTimeout=10",
            f"NodeName={self.node_name} NodeHostname={self.hostname} NodeAddr=127.0.0.1 "
            f"CPUs={self.cpus} RealMemory={self.real_memory_mb} State=UNKNOWN",
        ]
        for i, part in enumerate(self.partitions):
            default = "YES" if i == 0 else "NO"
            lines.append(f"PartitionName={part} Nodes={self.node_name} Default={default} MaxTime=INFINITE State=UP")
        self.conf_path.write_text("\n".join(lines) + "\n")
        self._write_shims()
        # Read only by cgroup plugins, which this cluster does not load (proctrack/linuxproc,
        # task/none); written so that no /etc/slurm/cgroup.conf is picked up instead.
        (self.conf_path.parent / "cgroup.conf").write_text("CgroupAutomount=no\nConstrainCores=no\nConstrainRAMSpace=no\n")


def start_cluster(workdir: str | os.PathLike[str] | None = None, **kwargs) -> SlurmCluster:
    """Install SLURM if needed (`install_slurm`), then start and return a `SlurmCluster`.

    For a test fixture: the caller stops it (``cluster.stop()``). Raises `SlurmUnavailable` when
    this machine cannot run SLURM (not root, no apt-get) — a fixture should skip then, except on CI
    (see `skip_or_fail`).
    """
    install_slurm()
    return SlurmCluster(workdir, **kwargs).start()


def skip_or_fail(reason: str, environ: Mapping[str, str] | None = None) -> None:
    """``pytest.skip(reason)``, or ``pytest.fail(reason)`` on CI (``CI=true``), where SLURM must run."""
    import pytest

    environ = os.environ if environ is None else environ
    if environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"SLURM tests cannot run on CI: {reason}")
    pytest.skip(reason)


def write_test_profile(
    cluster: SlurmCluster,
    dest: str | os.PathLike[str],
    *,
    profile: str | os.PathLike[str] = REPO_ROOT / "profiles" / "slurm",
    mem_mb: str | None = None,
    init_seconds: int = 5,
    latency_wait: int = 5,
) -> Path:
    """Copy ``profiles/slurm`` to ``dest`` with its placeholders filled for ``cluster``; return ``dest``.

    Changes, and nothing else: ``slurm_account`` is dropped (no slurmdbd, so no accounts to
    validate); ``CHANGE_ME_partition`` becomes the default partition and ``CHANGE_ME_gpu_partition``
    the ``gpu`` partition (the default partition when the cluster has none); the first status check
    comes after ``init_seconds`` (keep 3 × it ≤ MinJobAge, or the plugin falls back to sacct; the
    plugin then backs off by +10 s per check that sees no finished job, so with 5 a job of up to
    ~20 s is noticed after 20 s, and Snakemake exits one ``init_seconds`` after the last job) and
    ``latency-wait`` is ``latency_wait``; ``mem_mb`` (a Snakemake expression such as
    ``"200 * attempt"``), when given, replaces every ``mem_mb`` of the profile so jobs fit a small node.
    """
    import yaml

    src = Path(profile) / "config.yaml"
    cfg = yaml.safe_load(src.read_text())
    gpu_part = "gpu" if "gpu" in cluster.partitions else cluster.default_partition
    fill = {"CHANGE_ME_partition": cluster.default_partition, "CHANGE_ME_gpu_partition": gpu_part}

    def _fill(resources: dict) -> dict:
        out = {}
        for key, value in resources.items():
            if key == "slurm_account":
                continue
            if key == "mem_mb" and mem_mb is not None:
                value = mem_mb
            out[key] = fill.get(value, value) if isinstance(value, str) else value
        return out

    cfg["default-resources"] = _fill(cfg.get("default-resources") or {})
    cfg["set-resources"] = {rule: _fill(res) for rule, res in (cfg.get("set-resources") or {}).items()}
    cfg["slurm-init-seconds-before-status-checks"] = int(init_seconds)
    cfg["latency-wait"] = int(latency_wait)
    leftover = [s for s in ("CHANGE_ME",) if s in yaml.safe_dump(cfg)]
    if leftover:
        raise ValueError(f"{src}: placeholders left after filling: {leftover} (new CHANGE_ME key?)")
    out_dir = Path(dest)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out_dir
