#!/usr/bin/env bash
# Install a single-node SLURM (Debian's slurm-wlm) + MUNGE for the SLURM tests.
#
# Idempotent: exits at once when slurmctld, slurmd, munged and sbatch are all on PATH.
# Needs root and apt-get (Debian/Ubuntu). Starts no services: a policy-rc.d that exits 101
# stops the packages' maintainer scripts from starting daemons (tests/slurm_cluster.py starts
# its own, with all state in a temporary directory). A policy-rc.d we create is removed again.
#
# Usage: scripts/ci/install_slurm.sh
set -euo pipefail

PATH="/usr/sbin:/sbin:$PATH"

have_all() {
    local tool
    for tool in slurmctld slurmd munged sbatch; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
}

if have_all; then
    echo "install_slurm.sh: slurmctld, slurmd, munged and sbatch already installed; nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install_slurm.sh: must run as root to apt-get install SLURM (uid is $(id -u))" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_slurm.sh: apt-get not found; install slurmctld, slurmd, slurm-client and munge yourself" >&2
    exit 1
fi

POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [ "$created_policy" -eq 1 ]; then
        rm -f "$POLICY"
    fi
}
trap cleanup EXIT

if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# created by ganaudit scripts/ci/install_slurm.sh: do not start services\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
    created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null

if ! have_all; then
    echo "install_slurm.sh: apt-get finished but slurmctld/slurmd/munged/sbatch are still missing" >&2
    exit 1
fi
echo "install_slurm.sh: installed $(dpkg-query -W -f='slurm-client ${Version}, munge ${Version}' slurm-client 2>/dev/null || true)"
