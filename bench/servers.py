"""Real servers on loopback for the load benchmark and the fault tests: a private
PostgreSQL and a private Redis on random ports (to stop, kill and restart without
touching anyone else's), and Amane itself as real uvicorn worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_missing() -> str | None:
    """Why a private PostgreSQL cannot be started here (None: it can)."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (POSTGRES_BIN / tool).exists():
            return f"{POSTGRES_BIN / tool} not found (set POSTGRES_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser (initdb refuses root)"
    return None


def redis_missing() -> str | None:
    return None if shutil.which("redis-server") else "redis-server not found"


class PrivateServer:
    """A server of our own in a temporary directory: stopped, restarted, destroyed."""

    dir: Path

    def start(self) -> PrivateServer:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres(PrivateServer):
    """A throwaway PostgreSQL cluster in a temporary directory, trust auth, on a random
    loopback port; run as the `postgres` user when we are root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="amane-pg-"))
        self.data = self.dir / "data"
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(POSTGRES_BIN / args[0]), *args[1:]]
        if self._user:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=self.dir)

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            if self._user:
                shutil.chown(self.dir, self._user)
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c max_connections=200", "start")
        _wait(lambda: _answers(self.port), "PostgreSQL")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


class PrivateRedis(PrivateServer):
    """A throwaway redis-server on a random loopback port. `persistent`: append-only
    file on (as in production), so that a restart keeps the sessions."""

    def __init__(self, *, persistent: bool = True) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="amane-redis-"))
        self.persistent = persistent
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--dir", str(self.dir),
             "--appendonly", "yes" if self.persistent else "no",
             "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: _answers(self.port), "Redis")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None



class AmaneServer:
    """`run_bot.py serve --workers N` in a subprocess (real uvicorn workers), with the
    environment given; `worker_pids()` to kill one."""

    def __init__(self, env: dict[str, str], *, workers: int = 1, port: int | None = None,
                 log: Path | None = None) -> None:
        self.port = port or free_port()
        self.workers = workers
        self.env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._output: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run_bot(self, *args: str) -> None:
        subprocess.run([sys.executable, str(ROOT / "run_bot.py"), *args], env=self.env,
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)

    def start(self) -> AmaneServer:
        output: Any = subprocess.DEVNULL
        if self.log:
            output = self._output = open(self.log, "ab")  # noqa: SIM115
        self._process = subprocess.Popen(
            [sys.executable, str(ROOT / "run_bot.py"), "serve", "--workers", str(self.workers)],
            env=self.env, cwd=ROOT, stdout=output, stderr=output, start_new_session=True)
        _wait(self._healthy, "Amane", timeout=60)
        if self.workers > 1:
            _wait(lambda: len(self.worker_pids()) >= self.workers, "Amane's workers")
        return self

    def _healthy(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"Amane exited with {self._process.returncode}"
                               + (f" (see {self.log})" if self.log else ""))
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def pids(self) -> list[int]:
        """The main process and its workers (one worker is the main process itself)."""
        if self._process is None:
            return []
        return list(dict.fromkeys([self._process.pid, *self.worker_pids()]))

    def worker_pids(self) -> list[int]:
        if self._process is None:
            return []
        return _children(self._process.pid) if self.workers > 1 else [self._process.pid]

    def memory_kib(self) -> int:
        """Resident memory of the main process and its workers, now."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the main process and its workers:
        the cost of the work, steadier than a rate on a machine shared with others."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (man 5 proc)
        return total / tick

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
        except ProcessLookupError:
            pass
        self._process = None
        if self._output is not None:
            self._output.close()
            self._output = None


def _children(pid: int) -> list[int]:
    """Worker processes of uvicorn's supervisor (its children, less the helpers that
    multiprocessing spawns, which run `-c from multiprocessing...`)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    workers = []
    for child in found:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            workers.append(child)
    return sorted(workers)


NLU_CACHE = ROOT / "var" / "nlu"


def ensure_nlu_model(cache: Path = NLU_CACHE) -> None:
    """Train the NLU model into `cache` now if it is not there, so that the workers
    about to start only load it (they would otherwise each train it at start)."""
    from bot.nlu.model import DEFAULT_DATA_DIR, load_or_train

    load_or_train(DEFAULT_DATA_DIR, cache)


def amane_environment(workdir: Path, port: int, twilio_url: str,
                      auth_token: str, nlu_cache: Path = NLU_CACHE) -> dict[str, str]:
    """Settings for Amane on `port` with SMS through a fake Twilio at `twilio_url`, its
    keys generated, its files under `workdir` (storage settings left to the caller), the
    NLU model from `nlu_cache` (see `ensure_nlu_model`)."""
    from bot.crypto import generate_key_material

    material = generate_key_material()
    return {
        "ENCRYPTION_KEYS": ",".join(material["encryption_keys"]),  # type: ignore[arg-type]
        "ADDRESS_HASH_KEY": str(material["address_hash_key"]),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_SMS_FROM": "+212500000001", "TWILIO_API_BASE_URL": twilio_url,
        "VAR_DIR": str(workdir / "var"), "NLU_CACHE_DIR": str(nlu_cache),
        "LOG_LEVEL": "WARNING",
        "SIMULATOR_ENABLED": "false",
    }


def machine_cpu_seconds() -> float:
    """CPU time used so far by the whole machine, all cores (user, nice, system, irq and
    softirq; not idle, not waiting for disk, not stolen by the host's other guests)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
