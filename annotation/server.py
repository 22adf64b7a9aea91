"""The embedded Label Studio server: found, started on 127.0.0.1 with SQLite, stopped.

The server lives in its own virtual environment (`.venv-ls`, made by ./run.sh) because it pins
Django and friends; we only run its `label-studio` executable. Start-up is non-interactive: the
admin user, password and API token are passed in, no browser opens, analytics and version checks
are off, and legacy API tokens are enabled so a plain token works with the SDK.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.fileset import hold_temp, remove_stale_temps

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path("annotation/ls-data")
DEFAULT_PORT = 8080
DEFAULT_USERNAME = "admin@example.com"
CREDENTIALS_FILE = "vnreorg-server.json"


def find_label_studio() -> str:
    """$VNREORG_LABEL_STUDIO, else <repo>/.venv-ls/bin/label-studio, else `label-studio` on PATH."""
    env = os.environ.get("VNREORG_LABEL_STUDIO")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise VnreorgError(f"VNREORG_LABEL_STUDIO={env} is not an executable file; run ./run.sh to set up .venv-ls")
        return env
    local = REPO_ROOT / ".venv-ls" / "bin" / "label-studio"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("label-studio")
    if found:
        return found
    raise VnreorgError(
        "the Label Studio server is not installed: run ./run.sh (it creates .venv-ls with label-studio 1.23.2), "
        "or set VNREORG_LABEL_STUDIO to a label-studio executable, or pass --url and --api-key of a running server"
    )


def installed_label_studio_version(executable: str) -> str | None:
    """The version of the label-studio package beside `executable`, read from its installed metadata.

    Never by running `label-studio --version`: that starts a server on 0.0.0.0:8080."""
    from importlib.metadata import distributions

    venv = Path(executable).absolute().parent.parent
    paths = [str(p) for p in sorted(venv.glob("lib/python*/site-packages"))]
    for dist in distributions(path=paths) if paths else ():
        if (dist.metadata["Name"] or "").lower().replace("_", "-") == "label-studio":
            return dist.version
    return None


@dataclass
class Credentials:
    url: str
    username: str
    password: str
    token: str

    def save(self, data_dir: Path) -> Path:
        """Atomically, and private from the first byte: the temporary file is created 600 before the secrets go in."""
        make_private(Path(data_dir))
        path = Path(data_dir) / CREDENTIALS_FILE
        remove_stale_temps(path.parent, [path.name])  # a killed start's temporary file (it holds secrets)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            hold_temp(fd)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(self.__dict__, indent=2) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, data_dir: Path) -> "Credentials | None":
        path = Path(data_dir) / CREDENTIALS_FILE
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise VnreorgError(
                f"unreadable credentials file ({exc}); delete it and the data folder to start afresh", str(path)
            ) from None


SERVER_FILES = (
    "label_studio.sqlite3",
    "label_studio.sqlite3-journal",
    "label_studio.sqlite3-wal",
    "label_studio.sqlite3-shm",
    CREDENTIALS_FILE,
    "server.log",
    ".env",
)
SERVER_FOLDERS = ("media", "export", "test_data")


def make_private(data_dir: Path) -> None:
    """The data folder 700, and what the server and we keep in it 600 (files) / 700 (folders): it holds the
    API token (in the SQLite database too), the password and the annotations. The server itself runs with
    umask 077. Only the known entries are touched, so a mistaken --data-dir cannot re-mode other files."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(data_dir, 0o700)
    for name in SERVER_FILES:
        path = data_dir / name
        if path.is_file() and not path.is_symlink():
            os.chmod(path, 0o600)
    for name in SERVER_FOLDERS:
        top = data_dir / name
        if not top.is_dir() or top.is_symlink():
            continue
        os.chmod(top, 0o700)
        for root, dirs, files in os.walk(top):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o700)
            for f in files:
                path = os.path.join(root, f)
                if not os.path.islink(path):
                    os.chmod(path, 0o600)


def new_token() -> str:
    return secrets.token_hex(20)  # 40 hex characters, the shape of a Label Studio legacy token


def new_password() -> str:
    return secrets.token_urlsafe(12)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, creds: Credentials) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(Path(data_dir).resolve()),
            "DJANGO_DB": "sqlite",
            "LATEST_VERSION_CHECK": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "COLLECT_ANALYTICS": "false",
            "LABEL_STUDIO_USERNAME": creds.username,
            "LABEL_STUDIO_PASSWORD": creds.password,
            "LABEL_STUDIO_USER_TOKEN": creds.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        }
    )
    return env


def health(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class LabelStudioServer:
    """A label-studio process we started; `with LabelStudioServer(...) as srv:` stops it on exit."""

    def __init__(
        self,
        data_dir: str | os.PathLike = DEFAULT_DATA_DIR,
        port: int = DEFAULT_PORT,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        executable: str | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        saved = Credentials.load(self.data_dir)
        if saved is not None:
            # The user and token are created at the first start only; later starts reuse them.
            for given, kept, what in ((token, saved.token, "API token"), (password, saved.password, "password")):
                if given and given != kept:
                    raise VnreorgError(
                        f"this data folder's server already has its {what}; it is set at the first start only "
                        f"(omit it, or use a new --data-dir)",
                        str(self.data_dir),
                    )
            username, password, token = saved.username, saved.password, saved.token
        elif (self.data_dir / "label_studio.sqlite3").exists() and not (token and password):
            raise VnreorgError(
                f"this data folder holds a Label Studio database but no {CREDENTIALS_FILE}: pass the admin's "
                "--username, --password and --api-key, or use a new --data-dir",
                str(self.data_dir),
            )
        self.credentials = Credentials(self.url, username or DEFAULT_USERNAME, password or new_password(), token or new_token())
        if "@" not in self.credentials.username:
            raise VnreorgError(
                f"the Label Studio user name must be an e-mail address, got {self.credentials.username!r}", "--username"
            )
        self.executable = executable or find_label_studio()
        self.log_path = self.data_dir / "server.log"
        self.process: subprocess.Popen | None = None
        # Set by `stop_on_signals`: a signal that arrives while the child is being spawned or stopped is
        # only recorded (raising there could lose the child), and acted on right after.
        self.shielded = False
        self.pending_signal: int | None = None

    def start(self, timeout: float = 240.0) -> "LabelStudioServer":
        if not port_is_free(self.port):
            raise VnreorgError(f"port {self.port} on 127.0.0.1 is in use (a server already running? pass --port)", self.url)
        make_private(self.data_dir)
        self.credentials.save(self.data_dir)
        c = self.credentials
        cmd = [
            self.executable,
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--enable-legacy-api-token",
            "--log-level",
            "WARNING",
        ]  # user, password, token: environment only (not in `ps`)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.shielded = True
        try:
            self.process = subprocess.Popen(
                cmd,
                env=server_env(self.data_dir, c),
                stdout=fd,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                start_new_session=True,
                umask=0o077,
            )
        finally:
            self.shielded = False
            os.close(fd)
        if self.pending_signal is not None:
            raise KeyboardInterrupt
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise VnreorgError(
                    f"label-studio exited with code {self.process.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}",
                    self.url,
                )
            if health(self.url):
                make_private(self.data_dir)  # files made before the umask applied (an older data folder)
                return self
            time.sleep(0.5)
        self.stop()
        raise VnreorgError(
            f"label-studio did not answer /health within {timeout:.0f} s; see {self.log_path}:\n{self.log_tail()}", self.url
        )

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process we started (its own session, so its process group is ours alone)."""
        proc = self.process
        if proc is None:
            return
        self.shielded = True
        try:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            self.process = None
        finally:
            self.shielded = False

    @contextmanager
    def stop_on_signals(self) -> Iterator["LabelStudioServer"]:
        """SIGINT, SIGTERM and SIGHUP stop the server and wait for it at every moment, start-up included.

        The child runs in its own session (a Ctrl-C in the terminal does not reach it directly), so the
        signal is forwarded here: it becomes KeyboardInterrupt, and `stop()` signals the child's process
        group and waits. Only from the main thread."""

        def handler(signum, frame):
            self.pending_signal = signum
            if not self.shielded:
                raise KeyboardInterrupt

        old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            yield self
        finally:
            try:
                self.stop()
            finally:
                for sig, h in old.items():
                    signal.signal(sig, h)

    def __enter__(self) -> "LabelStudioServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
