"""Benign user activity: working days, weekends, night shifts, and what people do at a PC.

Each user gets zero or more sessions a day (office hours with a lunch break; rare weekend
visits; night-shift admins from 20:00). A session logs on at the workstation (sometimes
after a mistyped password), starts the usual applications, then performs actions drawn by
role: browsing, opening documents, file shares, development work, SSH to Linux hosts, and
for admins RDP to servers with their separate admin account.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from garrison.demo.bg_hosts import hosts_day, register_names
from garrison.demo.context import CHROME, EDGE, OFFICE, POWERSHELL, SYS32, Gen
from garrison.demo.winevents import Proc
from garrison.demo.world import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_S, Host, User

_DOCS = (
    "Q{n} forecast.xlsx",
    "Meeting notes {d}.docx",
    "Board pack {m}.pptx",
    "Timesheet week {n}.xlsx",
    "Supplier contract v{n}.docx",
    "Shipment schedule {d}.xlsx",
    "Invoice {k}.pdf",
    "Policy update {m}.pdf",
    "Budget {m}.xlsx",
    "Org chart.pptx",
    "Customer list {m}.xlsx",
    "Travel request {d}.docx",
    "Purchase order {k}.pdf",
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun")
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


@dataclass(slots=True)
class Shift:
    start: int
    end: int
    lunch: tuple[int, int] | None


def generate_background(gen: Gen) -> None:
    register_names(gen)
    for day in range(gen.world.days):
        hosts_day(gen, day)
        for user in gen.world.users:
            for shift in shifts(gen, user, day):
                Session(gen, user, shift).run()


def shifts(gen: Gen, user: User, day: int) -> list[Shift]:
    """When the user is at a PC that day (possibly none)."""
    rng, world = gen.rng, gen.world
    day0 = world.day_start(day)
    weekday = (day0 // US_PER_DAY + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    if user.works_nights:
        if weekday in (6, 0, 1, 2, 3) and rng.random() < 0.95:
            start = day0 + 20 * US_PER_HOUR + rng.randint(-20, 20) * US_PER_MIN
            return [Shift(start, start + int(rng.gauss(10, 0.3) * US_PER_HOUR), None)]
        return []
    if world.is_weekend(day):
        chance = 0.2 if user.is_admin else 0.06
        if rng.random() >= chance:
            return []
        start = day0 + rng.randint(10 * 60, 15 * 60) * US_PER_MIN
        return [Shift(start, start + rng.randint(40, 180) * US_PER_MIN, None)]
    if rng.random() >= 0.93:
        return []
    start = day0 + (user.start_min + int(rng.gauss(0, 12))) * US_PER_MIN
    end = start + int(rng.gauss(8.6, 0.5) * US_PER_HOUR)
    lunch_start = day0 + rng.randint(11 * 60 + 45, 13 * 60) * US_PER_MIN
    return [Shift(start, end, (lunch_start, lunch_start + rng.randint(25, 60) * US_PER_MIN))]


class Session:
    """One user at their workstation for one shift."""

    def __init__(self, gen: Gen, user: User, shift: Shift) -> None:
        self.gen = gen
        self.user = user
        self.shift = shift
        self.ws: Host = gen.world.by_name[user.workstation]
        self.dom_user = f"{gen.world.netbios}\\{user.sam}"
        self.home = f"C:\\Users\\{user.sam}"
        self.logon_id = gen.win.logon_id()
        self.explorer: Proc | None = None
        self.outlook: Proc | None = None
        self.shell: Proc | None = None
        self.code: Proc | None = None
        uses_chrome = int(gen.world.digest("browser", user.sam)[:2], 16) < 90
        self.browser_image = CHROME if uses_chrome else EDGE

    @property
    def rng(self) -> random.Random:
        return self.gen.rng

    def run(self) -> None:
        self.logon(self.shift.start)
        t = self.shift.start + self.rng.randint(3, 8) * US_PER_MIN
        if self.user.dropbox:
            self.dropbox_poll(self.shift.start + 40 * US_PER_S, self.shift.end)
        gap = 7 if self.user.is_admin else 9
        while t < self.shift.end:
            lunch = self.shift.lunch
            if lunch and lunch[0] <= t < lunch[1]:
                t = lunch[1]
                self.gen.winlog(
                    t,
                    self.gen.win.logon(
                        self.ws,
                        t,
                        self.user.sam,
                        7,
                        ip="127.0.0.1",
                        workstation=self.ws.name,
                        package="Negotiate",
                        subject=f"{self.ws.name}$",
                        process=SYS32 + "winlogon.exe",
                    ),
                )
                continue
            self.action(t)
            t += int(self.rng.expovariate(1 / gap) * US_PER_MIN) + 20 * US_PER_S

    # -- logon -------------------------------------------------------------------------
    def logon(self, t: int) -> None:
        gen, ws, user = self.gen, self.ws, self.user
        if self.rng.random() < 0.06:
            gen.winlog(
                t - 9 * US_PER_S,
                gen.win.failed_logon(
                    ws,
                    t - 9 * US_PER_S,
                    user.sam,
                    2,
                    ip="127.0.0.1",
                    workstation=ws.name,
                    package="Negotiate",
                    subject=f"{ws.name}$",
                    process=SYS32 + "winlogon.exe",
                ),
            )
        gen.winlog(
            t,
            gen.win.logon(
                ws,
                t,
                user.sam,
                2,
                ip="127.0.0.1",
                workstation=ws.name,
                package="Negotiate",
                subject=f"{ws.name}$",
                process=SYS32 + "winlogon.exe",
                logon_id=self.logon_id,
            ),
        )
        dc = gen.world.dcs[0]
        gen.winlog(t - 300_000, gen.win.logon(dc, t - 300_000, user.sam, 3, ip=ws.ip))
        gen.net.conn(
            t - 400_000,
            ws.ip,
            dc.ip,
            88,
            service="krb_tcp",
            duration=0.003,
            orig_bytes=1600,
            resp_bytes=1580,
        )
        gen.net.conn(
            t + 2 * US_PER_S,
            ws.ip,
            dc.ip,
            445,
            service="smb,gssapi",
            duration=4.0,
            orig_bytes=self.rng.randint(6000, 20000),
            resp_bytes=self.rng.randint(40000, 200000),
        )
        winlogon = gen.sysproc(ws, "winlogon")
        userinit = gen.spawn(
            t + 2 * US_PER_S,
            ws,
            winlogon,
            SYS32 + "userinit.exe",
            "C:\\Windows\\system32\\userinit.exe",
            user=self.dom_user,
            integrity="Medium",
            logon_id=self.logon_id,
            logon_guid=gen.win.guid(),
            session=1,
        )
        self.explorer = gen.spawn(
            t + 3 * US_PER_S,
            ws,
            userinit,
            "C:\\Windows\\explorer.exe",
            "C:\\Windows\\Explorer.EXE",
            cwd=SYS32,
        )
        ex = self.explorer
        onedrive = f"{self.home}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe"
        gen.spawn(t + 6 * US_PER_S, ws, ex, onedrive, f'"{onedrive}" /background')
        teams = (
            "C:\\Program Files\\WindowsApps\\MSTeams_24033.811.2738.2546_x64__"
            "8wekyb3d8bbwe\\ms-teams.exe"
        )
        gen.spawn(t + 8 * US_PER_S, ws, ex, teams, f'"{teams}" msteams:system-initiated')
        if self.user.dropbox:
            box = "C:\\Program Files (x86)\\Dropbox\\Client\\Dropbox.exe"
            gen.spawn(t + 9 * US_PER_S, ws, ex, box, f'"{box}" /systemstartup')
        self.outlook = gen.spawn(
            t + 40 * US_PER_S, ws, ex, OFFICE + "OUTLOOK.EXE", f'"{OFFICE}OUTLOOK.EXE" '
        )
        gen.spawn(t + 70 * US_PER_S, ws, ex, self.browser_image, f'"{self.browser_image}" ')
        for i, name in enumerate(
            (
                "login.microsoftonline.com",
                "outlook.office365.com",
                "teams.microsoft.com",
                "statics.teams.cdn.office.net",
                f"{gen.world.netbios.lower()}-my.sharepoint.com",
            )
        ):
            gen.net.https(
                t + (10 + i * 7) * US_PER_S,
                ws.ip,
                name,
                orig_bytes=self.rng.randint(2000, 9000),
                resp_bytes=self.rng.randint(9000, 400_000),
                duration=1.5,
            )
        self.file_share(t + 90 * US_PER_S, logon=True)

    # -- actions -----------------------------------------------------------------------
    def action(self, t: int) -> None:
        role = self.user.role
        weights = {
            "staff": (55, 20, 12, 8, 5, 0, 0, 0, 0),
            "dev": (40, 8, 5, 3, 4, 28, 12, 0, 0),
            "admin": (30, 8, 5, 3, 2, 0, 15, 25, 12),
            "nightadmin": (25, 3, 2, 2, 2, 0, 18, 35, 13),
        }[role]
        acts = (
            self.browse,
            self.open_doc,
            self.file_share,
            self.attachment,
            self.misc,
            self.dev_work,
            self.ssh,
            self.rdp,
            self.admin_local,
        )
        self.rng.choices(acts, weights=weights)[0](t)

    def browse(self, t: int) -> None:
        net, rng = self.gen.net, self.rng
        site = self.gen.catalog.browse_target(rng, self.user.role in ("dev", "admin"))
        if rng.random() < 0.03:
            net.query(t - 2 * US_PER_S, self.ws.ip, self.gen.catalog.typo(rng))
        net.https(
            t,
            self.ws.ip,
            site,
            orig_bytes=int(rng.lognormvariate(8.3, 0.8)),
            resp_bytes=int(rng.lognormvariate(11.5, 1.3)),
            duration=round(rng.uniform(0.3, 25.0), 6),
        )
        for i, extra in enumerate(self.gen.catalog.embedded(rng, site)):
            net.https(
                t + (i + 1) * 150_000,
                self.ws.ip,
                extra,
                orig_bytes=int(rng.lognormvariate(7.5, 0.5)),
                resp_bytes=int(rng.lognormvariate(10.0, 1.0)),
                duration=round(rng.uniform(0.1, 3.0), 6),
            )

    def _doc_name(self) -> str:
        rng = self.rng
        return rng.choice(_DOCS).format(
            n=rng.randint(1, 52),
            d=f"2025-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
            m=rng.choice(_MONTHS),
            k=rng.randint(10000, 99999),
        )

    def _open(self, t: int, parent: Proc, path: str) -> None:
        ext = path.rsplit(".", 1)[-1]
        image = {
            "docx": OFFICE + "WINWORD.EXE",
            "xlsx": OFFICE + "EXCEL.EXE",
            "pptx": OFFICE + "POWERPNT.EXE",
        }.get(ext, "C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe")
        cmd = f'"{image}" /n "{path}" /o ""' if ext == "docx" else f'"{image}" "{path}"'
        self.gen.spawn(t, self.ws, parent, image, cmd)

    def open_doc(self, t: int) -> None:
        assert self.explorer is not None
        name = self._doc_name()
        where = self.rng.choice(
            (
                f"{self.home}\\Documents",
                f"{self.home}\\Downloads",
                f"{self.home}\\OneDrive - {self.gen.world.company}",
                f"\\\\FS01\\{self.user.department}",
            )
        )
        if where.startswith("\\\\"):
            self.file_share(t - 2 * US_PER_S)
        self._open(t, self.explorer, f"{where}\\{name}")

    def attachment(self, t: int) -> None:
        assert self.outlook is not None
        folder = "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(8))
        self._open(
            t,
            self.outlook,
            f"{self.home}\\AppData\\Local\\Microsoft\\Windows\\"
            f"INetCache\\Content.Outlook\\{folder}\\{self._doc_name()}",
        )

    def file_share(self, t: int, logon: bool = False) -> None:
        gen, fs = self.gen, self.gen.world.one("fs")
        if logon or self.rng.random() < 0.2:
            gen.winlog(t, gen.win.logon(fs, t, self.user.sam, 3, ip=self.ws.ip))
        gen.net.conn(
            t + 20_000,
            self.ws.ip,
            fs.ip,
            445,
            service="smb,gssapi",
            duration=round(self.rng.uniform(1, 300), 6),
            orig_bytes=int(self.rng.lognormvariate(9, 1.5)),
            resp_bytes=int(self.rng.lognormvariate(12, 1.5)),
        )

    def misc(self, t: int) -> None:
        assert self.explorer is not None
        if self.rng.random() < 0.6:
            self.gen.spawn(
                t,
                self.ws,
                self.explorer,
                SYS32 + "notepad.exe",
                f'"{SYS32}notepad.exe" {self.home}\\Desktop\\notes.txt',
            )
        else:
            printer = f"10.10.8.{10 + int(self.gen.world.digest('prn', self.ws.name)[:2], 16) % 6}"
            self.gen.net.conn(
                t,
                self.ws.ip,
                printer,
                9100,
                duration=3.0,
                orig_bytes=self.rng.randint(40_000, 3_000_000),
                resp_bytes=120,
            )

    def _shell(self, t: int) -> Proc:
        assert self.explorer is not None
        if self.shell is None:
            self.shell = self.gen.spawn(
                t - 5 * US_PER_S,
                self.ws,
                self.explorer,
                POWERSHELL,
                f'"{POWERSHELL}" ',
                cwd=f"{self.home}\\",
            )
        return self.shell

    def dev_work(self, t: int) -> None:
        gen, rng = self.gen, self.rng
        assert self.explorer is not None
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
        assert self.explorer is not None
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
        assert self.explorer is not None
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
