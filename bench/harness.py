"""What the benchmarks share: wrk, processes in their own groups, readiness, and where the CPU goes.

Only loopback addresses are used; every process started here is ended by ``stop``.
"""

from __future__ import annotations

import http.client
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REDIS_URL = "redis://127.0.0.1:6379/0"


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("wrk missing: installing Debian's package")
    if subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], timeout=300).returncode != 0:
        # A fresh machine may not have read the package lists yet.
        subprocess.run([*sudo, "apt-get", "update"], timeout=300, check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], timeout=300, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def handoff_env(db_url: str, port: int, secret: str, instance: str, redis_prefix: str) -> dict:
    return {
        **os.environ,
        "HANDOFF_ENV": "production",
        "HANDOFF_INSTANCE_PATH": instance,
        "DATABASE_URL": db_url.replace("postgresql://", "postgresql+psycopg://", 1),
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": redis_prefix,
        "SECRET_KEY": secret,
        "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
    }


def flask_cli(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        sys.exit(f"flask {' '.join(args)} failed:\n{tail}")
    return done.stdout


def start(name: str, cmd: list[str], *, cwd: Path, env: dict, logs: Path, nice: int = 0):
    # A session of its own, so stop() can end the process and its children (gunicorn's workers)
    # by this one process group id, and nothing else.
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (the child keeps it; closed here after the fork)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    proc.bench_name = name
    if nice:
        _nice_autogroup(proc.pid, nice)
    return proc


def _nice_autogroup(pid: int, nice: int) -> None:
    """With the kernel's autogroup scheduling, a new session is its own group and a process's nice
    value only ranks it within that group: the group itself must be niced to yield to the others."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:
        pass  # no autogroup (or not allowed): plain nice is all there is


def stop(proc, grace: float = 10.0) -> None:
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(proc, signal.SIGKILL)  # leftover children, if any
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print(f"warning: {proc.bench_name} (pid {proc.pid}) did not exit", file=sys.stderr)


def _signal_group(proc, signum) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass


def gunicorn_cmd(target: str, port: int, cfg: dict) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        target,
        "--bind",
        f"{HOST}:{port}",
        "--worker-class",
        cfg["worker_class"],
        "--workers",
        str(cfg["workers"]),
        "--backlog",
        "2048",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    if cfg["worker_class"] == "gthread":
        cmd += ["--threads", str(cfg["threads"])]
    return cmd


def status_of(port: int, path: str) -> int | None:
    """One GET without following redirects; None while the server is not answering."""
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        conn.request("GET", path, headers={"User-Agent": "handoff-bench-probe"})
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def wait_ready(proc, port: int, path: str, want: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{proc.bench_name} exited with {proc.returncode}; see its log")
        if status_of(port, path) == want:
            return
        time.sleep(0.2)
    sys.exit(f"{proc.bench_name} not ready on port {port} after {timeout:.0f} s")


TICKS = os.sysconf("SC_CLK_TCK")


SERVICES = {"redis-server": "redis", "postgres": "postgres"}


def machine_busy_seconds() -> float:
    """CPU time spent on anything but idle and I/O wait, all cores together, from /proc/stat."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far: by our process groups (name -> pgid), Redis, PostgreSQL, wrk (a
    finished child of this process) and the whole machine."""
    used = dict.fromkeys([*groups, *SERVICES.values()], 0.0)
    names = {pgid: name for name, pgid in groups.items()}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()  # state, ppid, pgrp, ... utime is 11, stime 12
        name = names.get(int(fields[2])) or SERVICES.get(comm)
        if name:
            used[name] += (int(fields[11]) + int(fields[12])) / TICKS
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["wrk"] = children.ru_utime + children.ru_stime
    used["machine"] = machine_busy_seconds()
    return used


def cpu_budget(before: dict, after: dict, requests: int, seconds: float) -> dict:
    spent = {name: after[name] - before[name] for name in before}
    spent["other"] = max(spent["machine"] - sum(v for k, v in spent.items() if k != "machine"), 0.0)
    return {
        "cores": {k: round(v / seconds, 3) for k, v in spent.items()},
        "ms_per_request": {k: round(1000 * v / max(requests, 1), 4) for k, v in spent.items()},
    }


def wait_quiet(max_wait: float = 30, threshold: float = 0.15) -> float:
    """Wait (bounded) until the machine is nearly idle, so a run does not start under someone
    else's load; return the busy fraction of the cores in the last second."""
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(1)
        busy = (machine_busy_seconds() - before) / os.cpu_count()
        if busy < threshold or time.monotonic() > deadline:
            return busy


def describe(cfg: dict) -> str:
    threads = f" --threads {cfg['threads']}" if cfg["worker_class"] == "gthread" else ""
    return f"--worker-class {cfg['worker_class']} --workers {cfg['workers']}{threads}"
