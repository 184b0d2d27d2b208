"""Network guard for the test suite, loaded into every Python process the tests start (via PYTHONPATH).

Any DNS look-up or connection to a non-loopback address raises ``NetworkBlocked`` and is appended to
the file named by ``YOLOPRUNE_NETGUARD_LOG``; the test session fails if that file is not empty at the
end, even when library code swallowed the exception.
"""

import os
import socket

_LOG = os.environ.get("YOLOPRUNE_NETGUARD_LOG")
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


class NetworkBlocked(OSError):
    pass


def _record(what):
    if _LOG:
        import traceback

        where = " <- ".join(f"{fr.filename.rsplit('/', 2)[-1]}:{fr.lineno}" for fr in traceback.extract_stack()[-8:-2][::-1])
        with open(_LOG, "a") as f:
            f.write(f"{os.getpid()} {what} at {where}\n")
    raise NetworkBlocked(f"network access blocked in tests: {what}")


def _is_local(address):
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0]) if address else ""
    return host in _LOCAL or host.startswith("127.")


def install():
    if getattr(socket, "_yoloprune_guarded", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if not _is_local(address):
            _record(f"connect {address!r}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _is_local(address):
            _record(f"connect_ex {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local((host,)):
            _record(f"getaddrinfo {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def gethostbyname(host):
        if not _is_local((host,)):
            _record(f"gethostbyname {host!r}")
        return "127.0.0.1"

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo, socket.gethostbyname = getaddrinfo, gethostbyname
    socket._yoloprune_guarded = True


if _LOG:
    install()
