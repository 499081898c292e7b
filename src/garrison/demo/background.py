"""Benign user activity: working days, weekends, night shifts, and what people do at a PC.

Each user gets zero or more sessions a day (office hours with a lunch break; rare weekend
visits; night-shift admins from 20:00). A session logs on at the workstation (sometimes
after a mistyped password), starts the usual applications, then performs actions drawn by
role: browsing, opening documents, file shares, development work, SSH to Linux hosts, and
for admins RDP to servers with their separate admin account.
"""

from __future__ import annotations

from garrison.demo.bg_desk import Shift
from garrison.demo.bg_hosts import hosts_day, register_names
from garrison.demo.bg_tech import TechWork
from garrison.demo.context import OFFICE, SYS32, Gen
from garrison.demo.winevents import Proc
from garrison.demo.world import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_S, User

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


class Session(TechWork):
    """One user at their workstation for one shift."""

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
        assert self.explorer is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
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
        assert self.outlook is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
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
        assert self.explorer is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
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
