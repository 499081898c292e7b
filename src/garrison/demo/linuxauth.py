"""Linux ``auth.log`` lines as OpenSSH, sudo, PAM, cron and systemd-logind write them.

A record is ``(hostname, program, pid or None, message)``; the writer prefixes the RFC 3339
timestamp rsyslog's high-precision format uses (the default file format on current Ubuntu),
which keeps the year and the zone in every line.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field

from garrison.demo.netflow import NetFactory
from garrison.demo.recorder import Recorder
from garrison.demo.world import US_PER_S, Host, World

AuthLine = tuple[str, str, int | None, str]


@dataclass(slots=True)
class AuthFactory:
    world: World
    rec: Recorder
    net: NetFactory
    rng: random.Random
    _session: dict[str, int] = field(default_factory=dict)

    def pid(self, host: str, time_us: int) -> int:
        """A process id that grows with time, as Linux hands them out (about one every 2 s)."""
        offset = int(self.world.digest("lpid", host)[:4], 16) % 20000
        return 1000 + offset + (time_us - self.world.start_us) // 2_000_000 + self.rng.randint(0, 1)

    def line(
        self, time_us: int, host: Host, program: str, pid: int | None, message: str, stage: str = ""
    ) -> None:
        self.rec.add("auth", time_us, (host.name, program, pid, message), stage)

    def uid_of(self, user: str) -> int:
        fixed = {"root": 0, "deploy": 1500, "backup": 34, "postgres": 113, "www-data": 33}
        if user in fixed:
            return fixed[user]
        for u in self.world.users:
            if u.sam == user and u.linux_uid:
                return u.linux_uid
        return 1000

    def key_fp(self, user: str) -> str:
        raw = bytes.fromhex(self.world.digest("sshkey", user))
        return base64.b64encode(raw).decode().rstrip("=")

    # -- sshd ----------------------------------------------------------------------------
    def ssh_session(
        self,
        time_us: int,
        host: Host,
        user: str,
        src_ip: str,
        duration_s: float,
        *,
        method: str = "publickey",
        stage: str = "",
        sudo: tuple[str, ...] = (),
    ) -> None:
        """Accepted login, session, optional sudo commands, disconnect; plus the TCP flow."""
        pid = self.pid(host.name, time_us)
        port = self.rng.randint(49152, 65535)
        session = self._session.get(host.name, int(self.world.digest("sess", host.name)[:3], 16))
        session += 1
        self._session[host.name] = session
        logind = 400 + int(self.world.digest("logind", host.name)[:3], 16) % 500
        uid = self.uid_of(user)
        how = (
            f"publickey for {user} from {src_ip} port {port} ssh2: ED25519 "
            f"SHA256:{self.key_fp(user)}"
            if method == "publickey"
            else f"password for {user} from {src_ip} port {port} ssh2"
        )
        t = time_us
        self.line(t, host, "sshd", pid, f"Accepted {how}", stage)
        self.line(
            t + 9_000,
            host,
            "sshd",
            pid,
            f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)",
            stage,
        )
        self.line(
            t + 21_000,
            host,
            "systemd-logind",
            logind,
            f"New session {session} of user {user}.",
            stage,
        )
        end = t + int(duration_s * US_PER_S)
        for i, command in enumerate(sudo):
            at = t + int((i + 1) * duration_s * US_PER_S / (len(sudo) + 1))
            self.sudo(at, host, user, "pts/0", f"/home/{user}", command, stage)
        self.line(
            end,
            host,
            "sshd",
            pid,
            f"Received disconnect from {src_ip} port {port}:11: disconnected by user",
            stage,
        )
        self.line(
            end + 700,
            host,
            "sshd",
            pid,
            f"Disconnected from user {user} {src_ip} port {port}",
            stage,
        )
        self.line(
            end + 1500,
            host,
            "sshd",
            pid,
            f"pam_unix(sshd:session): session closed for user {user}",
            stage,
        )
        self.line(
            end + 9_000,
            host,
            "systemd-logind",
            logind,
            f"Session {session} logged out. Waiting for processes to exit.",
            stage,
        )
        self.line(
            end + 12_000, host, "systemd-logind", logind, f"Removed session {session}.", stage
        )
        self.net.conn(
            t - 180_000,
            src_ip,
            host.ip,
            22,
            service="ssh",
            duration=duration_s + 0.18,
            orig_bytes=self.rng.randint(3000, 40000),
            resp_bytes=self.rng.randint(4000, 90000),
            stage=stage,
            sport=port,
        )

    def failed_password(
        self,
        time_us: int,
        host: Host,
        user: str,
        src_ip: str,
        port: int,
        pid: int,
        *,
        invalid: bool = False,
        stage: str = "",
    ) -> None:
        if invalid:
            self.line(
                time_us, host, "sshd", pid, f"Invalid user {user} from {src_ip} port {port}", stage
            )
            self.line(
                time_us + 300,
                host,
                "sshd",
                pid,
                "pam_unix(sshd:auth): check pass; user unknown",
                stage,
            )
            self.line(
                time_us + 400,
                host,
                "sshd",
                pid,
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                f"tty=ssh ruser= rhost={src_ip}",
                stage,
            )
            self.line(
                time_us + 1_900_000,
                host,
                "sshd",
                pid,
                f"Failed password for invalid user {user} from {src_ip} port {port} ssh2",
                stage,
            )
            return
        self.line(
            time_us,
            host,
            "sshd",
            pid,
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
            f"ruser= rhost={src_ip}  user={user}",
            stage,
        )
        self.line(
            time_us + 2_100_000,
            host,
            "sshd",
            pid,
            f"Failed password for {user} from {src_ip} port {port} ssh2",
            stage,
        )

    def probe(self, time_us: int, host: Host, src_ip: str) -> None:
        """A monitoring check that opens the SSH port and hangs up before authenticating."""
        port = self.rng.randint(32768, 60999)
        self.line(
            time_us + 4_000,
            host,
            "sshd",
            self.pid(host.name, time_us),
            f"Connection closed by {src_ip} port {port} [preauth]",
        )
        self.net.conn(
            time_us,
            src_ip,
            host.ip,
            22,
            service="ssh",
            duration=0.004,
            orig_bytes=22,
            resp_bytes=41,
            sport=port,
        )

    # -- sudo / cron -------------------------------------------------------------------
    def sudo(
        self,
        time_us: int,
        host: Host,
        user: str,
        tty: str,
        pwd: str,
        command: str,
        stage: str = "",
        *,
        typo: bool = False,
    ) -> None:
        """sudo logs through syslog without a pid: the command line, then PAM's session."""
        uid = self.uid_of(user)
        head = f"{user:>8} : "
        if typo:
            self.line(
                time_us - 6_000_000,
                host,
                "sudo",
                None,
                f"pam_unix(sudo:auth): authentication failure; logname={user} uid={uid} "
                f"euid=0 tty=/dev/{tty} ruser={user} rhost=  user={user}",
                stage,
            )
        self.line(
            time_us,
            host,
            "sudo",
            None,
            f"{head}TTY={tty} ; PWD={pwd} ; USER=root ; COMMAND={command}",
            stage,
        )
        self.line(
            time_us + 2_000,
            host,
            "sudo",
            None,
            f"pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={uid})",
            stage,
        )
        self.line(
            time_us + self.rng.randint(40_000, 9_000_000),
            host,
            "sudo",
            None,
            "pam_unix(sudo:session): session closed for user root",
            stage,
        )

    def cron(self, time_us: int, host: Host, user: str, run_s: float) -> None:
        pid = self.pid(host.name, time_us)
        uid = self.uid_of(user)
        self.line(
            time_us + 1_000,
            host,
            "CRON",
            pid,
            f"pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)",
        )
        self.line(
            time_us + int(run_s * US_PER_S),
            host,
            "CRON",
            pid,
            f"pam_unix(cron:session): session closed for user {user}",
        )
