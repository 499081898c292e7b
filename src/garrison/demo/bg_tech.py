"""Technical work in the background: development, SSH to Linux hosts, admins' RDP sessions
and local tools, and the sync client's long-poll heartbeat (a benign beacon look-alike).
"""

from __future__ import annotations

from garrison.demo.bg_desk import Desk
from garrison.demo.context import POWERSHELL, SYS32
from garrison.demo.world import US_PER_S

_SUDO = (
    "/usr/bin/systemctl restart nginx",
    "/usr/bin/apt update",
    "/usr/bin/journalctl -u portal -n 200",
    "/usr/bin/tail -n 100 /var/log/syslog",
    "/usr/bin/docker ps",
    "/usr/bin/systemctl status postgresql",
    "/usr/bin/df -h",
)
_ADMIN_TOOLS = {
    "dc": (
        '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\dsa.msc"',
        '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\gpmc.msc"',
        "repadmin /replsummary",
    ),
    "fs": (
        '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\fsmgmt.msc"',
        'robocopy "D:\\Shares\\Projects" "E:\\Archive\\Projects" /E /R:1 /W:1',
    ),
    "sql": (
        '"C:\\Program Files (x86)\\Microsoft SQL Server Management Studio 19\\Common7\\IDE'
        '\\Ssms.exe"',
        'sqlcmd -S localhost -Q "EXEC msdb.dbo.sp_help_job"',
    ),
    "app": ('"C:\\Windows\\system32\\inetsrv\\InetMgr.exe"', "iisreset /status"),
}


class TechWork(Desk):
    def dev_work(self, t: int) -> None:
        gen, rng = self.gen, self.rng
        assert self.explorer is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
        if self.code is None:
            code = f"{self.home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"
            self.code = gen.spawn(t - 30 * US_PER_S, self.ws, self.explorer, code, f'"{code}" ')
        git = "C:\\Program Files\\Git\\cmd\\git.exe"
        roll = rng.random()
        if roll < 0.5:
            sub = rng.choice(
                (
                    "pull --rebase",
                    "status",
                    "fetch origin",
                    "push origin HEAD",
                    "log --oneline -n 20",
                )
            )
            gen.spawn(
                t, self.ws, self.code, git, f'"{git}" {sub}', cwd=f"{self.home}\\src\\portal\\"
            )
            gen.net.https(
                t + 300_000,
                self.ws.ip,
                "github.com",
                orig_bytes=rng.randint(3000, 90000),
                resp_bytes=rng.randint(5000, 2_000_000),
                duration=2.0,
            )
        elif roll < 0.8:
            py = f"{self.home}\\AppData\\Local\\Programs\\Python\\Python312\\python.exe"
            args = rng.choice(
                (
                    "-m pytest tests -q",
                    "manage.py runserver",
                    "-m pip install -r requirements.txt",
                    "scripts\\report.py --month 02",
                )
            )
            gen.spawn(
                t, self.ws, self._shell(t), py, f'"{py}" {args}', cwd=f"{self.home}\\src\\portal\\"
            )
            if "pip" in args:
                gen.net.https(
                    t + 1 * US_PER_S,
                    self.ws.ip,
                    "pypi.org",
                    orig_bytes=4000,
                    resp_bytes=90_000,
                    duration=1.0,
                )
                gen.net.https(
                    t + 3 * US_PER_S,
                    self.ws.ip,
                    "files.pythonhosted.org",
                    orig_bytes=9000,
                    resp_bytes=rng.randint(10**6, 4 * 10**7),
                    duration=8.0,
                )
        else:
            self.browse(t)

    def ssh(self, t: int) -> None:
        gen, rng, user = self.gen, self.rng, self.user
        bastion, build = gen.world.one("bastion"), gen.world.one("build")
        ssh_exe = SYS32 + "OpenSSH\\ssh.exe"
        gen.spawn(
            t - 2 * US_PER_S,
            self.ws,
            self._shell(t),
            ssh_exe,
            f'"{ssh_exe}" {user.sam}@{bastion.name}',
            cwd=f"{self.home}\\",
        )
        method = "password" if user.ssh_password else "publickey"
        if method == "password" and rng.random() < 0.1:
            port = rng.randint(49152, 65535)
            gen.auth.failed_password(
                t - 8 * US_PER_S, bastion, user.sam, self.ws.ip, port, gen.auth.pid(bastion.name, t)
            )
        duration = rng.uniform(4, 70) * 60
        sudo: tuple[str, ...] = ()
        if rng.random() < (0.5 if user.is_admin else 0.15):
            sudo = tuple(rng.sample(_SUDO, k=rng.randint(1, 3)))
        if user.role == "dev" or rng.random() < 0.4:
            gen.auth.ssh_session(t, bastion, user.sam, self.ws.ip, duration, method=method)
            gen.auth.ssh_session(
                t + rng.randint(20, 90) * US_PER_S,
                build,
                user.sam,
                bastion.ip,
                duration * 0.7,
                sudo=sudo,
            )
        else:
            target = rng.choice(gen.world.linux)
            if rng.random() < 0.05:
                gen.auth.sudo(
                    t + 60 * US_PER_S,
                    target,
                    user.sam,
                    "pts/0",
                    f"/home/{user.sam}",
                    rng.choice(_SUDO),
                    typo=True,
                )
            gen.auth.ssh_session(
                t, target, user.sam, self.ws.ip, duration, method=method, sudo=sudo
            )

    def rdp(self, t: int) -> None:
        gen, rng, user = self.gen, self.rng, self.user
        assert self.explorer is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
        servers = [h for h in gen.world.windows if h.is_server]
        srv = rng.choice(servers)
        mstsc = gen.spawn(
            t - 10 * US_PER_S,
            self.ws,
            self.explorer,
            SYS32 + "mstsc.exe",
            f'"{SYS32}mstsc.exe" /v:{srv.name}',
        )
        gen.winlog(
            t - 6 * US_PER_S,
            gen.win.explicit_logon(
                self.ws,
                t - 6 * US_PER_S,
                user.sam,
                self.logon_id,
                user.admin_account,
                srv.fqdn,
                mstsc,
            ),
        )
        duration = rng.uniform(6, 55) * 60
        gen.net.conn(
            t - 5 * US_PER_S,
            self.ws.ip,
            srv.ip,
            3389,
            service="ssl",
            duration=duration,
            orig_bytes=rng.randint(400_000, 9_000_000),
            resp_bytes=rng.randint(4_000_000, 90_000_000),
        )
        lid = gen.win.logon_id()
        gen.winlog(
            t,
            gen.win.logon(
                srv,
                t,
                user.admin_account,
                10,
                ip=self.ws.ip,
                workstation=self.ws.name,
                package="Negotiate",
                subject=f"{srv.name}$",
                process=SYS32 + "winlogon.exe",
                logon_id=lid,
                elevated=True,
            ),
        )
        admin = f"{gen.world.netbios}\\{user.admin_account}"
        rdpclip = gen.spawn(
            t + 4 * US_PER_S,
            srv,
            gen.sysproc(srv, "termsvc"),
            SYS32 + "rdpclip.exe",
            "rdpclip",
            user=admin,
            integrity="High",
            logon_id=lid,
            logon_guid=gen.win.guid(),
            session=2,
        )
        session = gen.spawn(
            t + 5 * US_PER_S, srv, rdpclip, "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"
        )
        tools = _ADMIN_TOOLS.get(srv.role, _ADMIN_TOOLS["app"])
        for i in range(rng.randint(1, 3)):
            cmd = rng.choice(tools)
            image = cmd.split('"')[1] if cmd.startswith('"') else SYS32 + cmd.split()[0] + ".exe"
            gen.spawn(t + (i + 1) * int(duration * US_PER_S / 4), srv, session, image, cmd)
        if user.works_nights and rng.random() < 0.25:
            script = rng.choice(("Check-Backups.ps1", "Get-DiskReport.ps1", "Rotate-Logs.ps1"))
            gen.spawn(
                t + int(duration * US_PER_S / 2),
                srv,
                session,
                POWERSHELL,
                f'"{POWERSHELL}" -NoProfile -ExecutionPolicy Bypass -File "C:\\Scripts\\{script}"',
            )

    def admin_local(self, t: int) -> None:
        gen, rng = self.gen, self.rng
        assert self.explorer is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
        cmd = gen.spawn(
            t, self.ws, self.explorer, SYS32 + "cmd.exe", f'"{SYS32}cmd.exe" ', cwd=f"{self.home}\\"
        )
        for i, line in enumerate(
            rng.sample(
                (
                    "ipconfig /all",
                    "ping -n 4 FS01",
                    "nslookup SQL01",
                    "gpupdate /force",
                    "ipconfig /flushdns",
                    "net use",
                    "whoami",
                ),
                k=rng.randint(1, 3),
            )
        ):
            exe = line.split()[0]
            gen.spawn(t + (i + 1) * 20 * US_PER_S, self.ws, cmd, f"{SYS32}{exe}.exe", line)

    def dropbox_poll(self, start: int, end: int) -> None:
        """Dropbox-style long-poll: a new TLS connection roughly every 65 s."""
        net, rng = self.gen.net, self.rng
        t = start
        while t < end:
            net.https(
                t,
                self.ws.ip,
                "bolt.dropbox.com",
                orig_bytes=rng.randint(700, 820),
                resp_bytes=rng.randint(300, 420),
                duration=round(rng.uniform(55, 62), 6),
            )
            t += int(rng.uniform(58, 72) * US_PER_S)
        net.https(
            start + 5 * US_PER_S,
            self.ws.ip,
            "client.dropbox.com",
            orig_bytes=3000,
            resp_bytes=rng.randint(9000, 900_000),
            duration=2.0,
        )
