"""A rogue "MySQL server" on 127.0.0.1 that records what clients send while signing in.

It speaks just enough of the protocol to get a password out of a client: the version 10
handshake (with a known scramble), then an auth-switch request to `mysql_clear_password`,
which makes PyMySQL send the password itself in clear; then "access denied".
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
import threading

SCRAMBLE = b"abcdefghijklmnopqrst"  # 20 bytes, as a real server's
_CAPABILITIES = (0x00000001 | 0x00000008 | 0x00000200 | 0x00008000  # long pw, db, 4.1, secure
                 | 0x00080000 | 0x00200000)  # plugin auth, plugin auth lenenc data


def native_scramble(password: bytes, scramble: bytes = SCRAMBLE) -> bytes:
    """What mysql_native_password sends for `password`."""
    stage1 = hashlib.sha1(password).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(scramble + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix, strict=True))


def _packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def _handshake() -> bytes:
    return (b"\x0a" + b"5.7.99-rogue\0" + struct.pack("<I", 7) + SCRAMBLE[:8] + b"\0"
            + struct.pack("<H", _CAPABILITIES & 0xFFFF) + b"\x21" + struct.pack("<H", 2)
            + struct.pack("<H", _CAPABILITIES >> 16) + bytes([21]) + b"\0" * 10
            + SCRAMBLE[8:] + b"\0" + b"mysql_native_password\0")


class RogueMysqlServer:
    """Listens on 127.0.0.1 (a free port); `received` holds every byte clients sent."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.received: list[bytes] = []
        self.connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="rogue-mysql", daemon=True)
        self._thread.start()

    @property
    def all_bytes(self) -> bytes:
        with self._lock:
            return b"".join(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                self.connections += 1
                with contextlib.suppress(OSError):  # a client that gave up early
                    self._sign_in(conn)

    def _read_packet(self, conn: socket.socket) -> bytes:
        header = self._read_exactly(conn, 4)
        payload = self._read_exactly(conn, int.from_bytes(header[:3], "little"))
        with self._lock:
            self.received.append(payload)
        return payload

    @staticmethod
    def _read_exactly(conn: socket.socket, n: int) -> bytes:
        conn.settimeout(10)
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def _sign_in(self, conn: socket.socket) -> None:
        conn.sendall(_packet(0, _handshake()))
        self._read_packet(conn)  # the handshake response: user, scrambled password, db
        # "Send me the password in clear, please."
        conn.sendall(_packet(2, b"\xfe" + b"mysql_clear_password\0" + SCRAMBLE + b"\0"))
        self._read_packet(conn)
        denied = b"Access denied (rogue server)"
        conn.sendall(_packet(4, b"\xff" + struct.pack("<H", 1045) + b"#28000" + denied))
