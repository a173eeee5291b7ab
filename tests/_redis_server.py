"""A real ``redis-server`` for the tests: started on a free port with no persistence, awaited
until it answers PING (with a deadline), killed in teardown. Missing binary: the tests skip,
except under ``CI=true`` where they fail (CI installs it).

:func:`redis_tls_server` is one serving TLS only (``--port 0``), with a password, its
certificate signed by a throwaway CA (trustme, a dev dependency; missing: skip, or fail under
``CI=true``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

__all__ = [
    "REDIS_PASSWORD",
    "RedisServer",
    "TlsFiles",
    "redis_mtls_server",
    "redis_server",
    "redis_tls_server",
]

#: The TLS server's ``--requirepass``: the tests look for it in every message and log line.
REDIS_PASSWORD = "redis-pw-9c2e41d7b0a85f36"

_START_DEADLINE = 10.0  # seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing, and CI installs it (see .ci/run)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return binary


def _trustme() -> Any:
    try:
        import trustme
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("trustme is missing, and CI installs it (the dev extra)")
        pytest.skip("trustme is not installed (pip install -e '.[dev]')")
    return trustme


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA, the server's certificate and key (for 127.0.0.1 and localhost), a
    client certificate with its key (signed by the same CA), and a CA that signed nothing."""

    ca: Path
    cert: Path
    key: Path
    client: Path
    other_ca: Path

    @classmethod
    def make(cls, directory: Path) -> TlsFiles:
        trustme = _trustme()
        directory.mkdir(parents=True, exist_ok=True)
        files = cls(*(directory / f"{n}.pem" for n in ("ca", "cert", "key", "client", "other-ca")))
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(files.ca))
        server = ca.issue_cert("127.0.0.1", "localhost")
        server.cert_chain_pems[0].write_to_path(str(files.cert))
        server.private_key_pem.write_to_path(str(files.key))
        ca.issue_cert("redis-client.test").private_key_and_cert_chain_pem.write_to_path(
            str(files.client)
        )
        trustme.CA().cert_pem.write_to_path(str(files.other_ca))
        return files


def _answers_ping(port: int, tls: TlsFiles | None = None) -> bool:
    """Whether the server answers (PONG, or NOAUTH when it wants a password)."""
    try:
        with contextlib.ExitStack() as stack:
            s = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=0.5))
            if tls is not None:
                context = ssl.create_default_context(cafile=str(tls.ca))
                context.load_cert_chain(str(tls.client))  # the servers requiring one
                s = stack.enter_context(context.wrap_socket(s, server_hostname="127.0.0.1"))
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


class RedisServer:
    """One redis-server process on ``port``; :meth:`kill` and :meth:`start` again on the same
    port (the tests of Redis going away and coming back). With ``tls``, ``port`` serves TLS
    only, asking for client certificates as ``client_certificates`` says (``no``,
    ``optional``, ``yes``); with ``password``, every connection (the unix socket's too) must
    authenticate."""

    def __init__(
        self,
        binary: str,
        workdir: Path,
        *,
        tls: TlsFiles | None = None,
        password: str | None = None,
        client_certificates: str = "optional",
    ) -> None:
        self.binary = binary
        self.workdir = workdir
        self.tls = tls
        self.password = password
        self.client_certificates = client_certificates
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL a client uses as-is: over TLS, trusting the server's CA."""
        if self.tls is None:
            return f"redis://{self._auth}127.0.0.1:{self.port}/0"
        return self.tls_url(self.tls.ca)

    def tls_url(self, ca: Path, password: str | None = None) -> str:
        """A ``rediss://`` URL trusting ``ca``, with ``password`` (default: the server's)."""
        return (
            f"rediss://{self._userinfo(password)}127.0.0.1:{self.port}/0"
            f"?ssl_ca_certs={quote(str(ca))}"
        )

    @property
    def unix_url(self) -> str:
        return f"unix://{self._auth}{self.socket}"

    @property
    def _auth(self) -> str:
        return self._userinfo(None)

    def _userinfo(self, password: str | None) -> str:
        password = password or self.password
        return "" if password is None else f":{quote(password, safe='')}@"

    @property
    def socket(self) -> Path:
        """It listens on a unix socket in its temporary directory too."""
        return self.workdir / "redis.sock"

    def _listen(self) -> list[str]:
        if self.tls is None:
            args = ["--port", str(self.port)]
        else:
            args = [
                "--port",
                "0",
                "--tls-port",
                str(self.port),
                "--tls-cert-file",
                str(self.tls.cert),
                "--tls-key-file",
                str(self.tls.key),
                "--tls-ca-cert-file",
                str(self.tls.ca),
                "--tls-auth-clients",
                self.client_certificates,
            ]
        if self.password is not None:
            args += ["--requirepass", self.password]
        return args

    def start(self) -> None:
        log = self.workdir / "redis.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - the redis-server found on PATH
                [self.binary, *self._listen(), *self._common()], stdout=out, stderr=out
            )
        deadline = time.monotonic() + _START_DEADLINE
        while not _answers_ping(self.port, self.tls):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                tail = log.read_text(errors="replace")[-800:]
                pytest.fail(f"redis-server did not answer PING on port {self.port}:\n{tail}")
            time.sleep(0.02)

    def _common(self) -> list[str]:
        return [
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--unixsocket",
            str(self.socket),
        ]

    def kill(self) -> None:
        """SIGKILL, as a crash would; wait until the process is gone."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=_START_DEADLINE)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(_binary(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _tls_server(tmp_path: Path, client_certificates: str) -> Iterator[RedisServer]:
    binary = _binary()
    tls = TlsFiles.make(tmp_path / "tls")
    server = RedisServer(
        binary,
        tmp_path,
        tls=tls,
        password=REDIS_PASSWORD,
        client_certificates=client_certificates,
    )
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def redis_tls_server(tmp_path: Path) -> Iterator[RedisServer]:
    """TLS only on its TCP port (``--port 0``), ``--requirepass`` :data:`REDIS_PASSWORD`; its
    unix socket (same password) is plain. A client certificate is checked if one is shown."""
    yield from _tls_server(tmp_path, "optional")


@pytest.fixture
def redis_mtls_server(tmp_path: Path) -> Iterator[RedisServer]:
    """As :func:`redis_tls_server`, but a client without a certificate signed by its CA is
    refused (``--tls-auth-clients yes``)."""
    yield from _tls_server(tmp_path, "yes")
