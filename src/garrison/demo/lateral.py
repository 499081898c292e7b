"""Stage 7 of the intrusion: lateral movement with the stolen admin account
(PsExec to the file server, WMIC to the SQL server, a remote scheduled task on the app server).
"""

from __future__ import annotations

from garrison.demo.context import SYS32
from garrison.demo.operator import Operator
from garrison.demo.winevents import SYSTEM_USER, Proc
from garrison.demo.world import US_PER_HOUR, US_PER_MIN

PUBLIC = "C:\\Users\\Public"


class LateralMovement(Operator):
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
        self.admin_network_logon(t + 400_000, target, stage)
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
        self.admin_network_logon(t + 200_000, target, s)
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
        session = self.admin_network_logon(t + 200_000, target, s)
        gen.winlog(
            t + 900_000,
            gen.win.task_created(
                target,
                t + 900_000,
                c.admin_account,
                session,
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
