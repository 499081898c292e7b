"""Windows events as flat JSON objects, shaped like an OTRF/Mordor export.

System fields (``EventID``, ``Channel``, ``Computer``, ``TimeCreated`` ...) sit beside the
EventData fields at the top level, which is the flat ``fields`` convention the normalizers
produce. ``EventRecordID`` is left out here and assigned by the writer per computer and
channel once the file is sorted, so record ids increase with time as they do on a real host.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from garrison.demo._binaries import IMAGE_META
from garrison.demo.world import US_PER_S, Host, World

SYSMON = "Microsoft-Windows-Sysmon/Operational"
_PROVIDERS = {
    SYSMON: ("Microsoft-Windows-Sysmon", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"),
    "Security": ("Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}"),
    "System": ("Service Control Manager", "{555908D1-A6D7-4695-8E1E-26931D2012F4}"),
}
SYSTEM_SID = "S-1-5-18"
SYSTEM_USER = "NT AUTHORITY\\SYSTEM"


@dataclass(slots=True, frozen=True)
class Proc:
    """A running process as Sysmon describes it."""

    host: str
    image: str
    command_line: str
    guid: str
    pid: int
    user: str
    logon_id: str = "0x3e7"
    logon_guid: str = ""
    session: int = 0
    integrity: str = "System"
    cwd: str = "C:\\Windows\\system32\\"


def win_time(time_us: int) -> str:
    """``TimeCreated`` as an exporter writes it: ISO 8601, microseconds, ``Z``."""
    dt = datetime.fromtimestamp(time_us // US_PER_S, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{time_us % US_PER_S:06d}Z"


def utc_time(time_us: int) -> str:
    """Sysmon's own ``UtcTime``: space separated, milliseconds."""
    dt = datetime.fromtimestamp(time_us // US_PER_S, tz=UTC)
    return f"{dt:%Y-%m-%d %H:%M:%S}.{(time_us % US_PER_S) // 1000:03d}"


class WinFactory:
    """Builds Windows event dicts for one world; holds the per-host process ids and GUIDs."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng

    # -- identities --------------------------------------------------------------------
    def guid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{{{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}}}"

    def pid(self) -> int:
        return self.rng.randrange(1000, 32000, 4)

    def logon_id(self) -> str:
        return f"0x{self.rng.randrange(0x100000, 0x9FFFFFF):x}"

    def stable_pid(self, host: str, what: str) -> int:
        return 400 + int(self.world.digest("pid", host, what)[:6], 16) % 8000 // 4 * 4

    def domain_user(self, sam: str) -> str:
        return f"{self.world.netbios}\\{sam}"

    def hashes(self, image: str) -> str:
        d = self.world.digest("image", image.lower())
        d2 = self.world.digest("imphash", image.lower())
        return (
            f"SHA1={d[:40].upper()},MD5={d2[:32].upper()},SHA256={d.upper()},"
            f"IMPHASH={d2[32:64].upper()}"
        )

    def system_proc(self, host: str, image: str, command_line: str) -> Proc:
        """A long-running process started at boot (no creation event in the window)."""
        d = self.world.digest("sysproc", host, image, command_line)
        guid = f"{{{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}}}"
        return Proc(
            host, image, command_line, guid, self.stable_pid(host, command_line), SYSTEM_USER
        )

    def new_proc(
        self,
        parent: Proc,
        image: str,
        command_line: str,
        *,
        user: str | None = None,
        integrity: str | None = None,
        cwd: str | None = None,
        logon_id: str | None = None,
        logon_guid: str | None = None,
        session: int | None = None,
    ) -> Proc:
        """A child of ``parent``: same session and user unless told otherwise."""
        same_user = user is None or user == parent.user
        return Proc(
            parent.host,
            image,
            command_line,
            self.guid(),
            self.pid(),
            user if user is not None else parent.user,
            logon_id or (parent.logon_id if same_user else "0x3e7"),
            logon_guid or (parent.logon_guid if same_user else ""),
            parent.session if session is None else session,
            integrity or parent.integrity,
            cwd or parent.cwd,
        )

    # -- envelope ----------------------------------------------------------------------
    def _system(
        self,
        host: Host,
        time_us: int,
        channel: str,
        event_id: int,
        *,
        task: int,
        version: int,
        keywords: str,
        level: int,
        user_sid: str | None = None,
    ) -> dict[str, Any]:
        provider, guid = _PROVIDERS[channel]
        exec_pid = {SYSMON: "Sysmon64.exe", "Security": "lsass.exe", "System": "services.exe"}[
            channel
        ]
        event: dict[str, Any] = {
            "TimeCreated": win_time(time_us),
            "EventID": event_id,
            "Channel": channel,
            "Provider_Name": provider,
            "Provider_Guid": guid,
            "Computer": host.fqdn,
            "Level": level,
            "Task": task,
            "Opcode": 0,
            "Keywords": keywords,
            "Version": version,
            "Execution_ProcessID": self.stable_pid(host.name, exec_pid),
            "Execution_ThreadID": self.rng.randrange(200, 12000, 4),
        }
        if user_sid:
            event["Security_UserID"] = user_sid
        return event

    # -- Sysmon ------------------------------------------------------------------------
    def _sysmon(self, host: Host, time_us: int, event_id: int, version: int) -> dict[str, Any]:
        """System fields of a Sysmon event (task = event id) and its first two data fields."""
        event = self._system(
            host,
            time_us,
            SYSMON,
            event_id,
            task=event_id,
            version=version,
            keywords="0x8000000000000000",
            level=4,
            user_sid=SYSTEM_SID,
        )
        event.update({"RuleName": "-", "UtcTime": utc_time(time_us)})
        return event

    def process_create(self, host: Host, time_us: int, proc: Proc, parent: Proc) -> dict[str, Any]:
        base = proc.image.rsplit("\\", 1)[-1].lower()
        original, desc, product, company, version = IMAGE_META.get(base, ("-", "-", "-", "-", "-"))
        event = self._sysmon(host, time_us, 1, version=5)
        event.update(
            {
                "ProcessGuid": proc.guid,
                "ProcessId": proc.pid,
                "Image": proc.image,
                "FileVersion": version,
                "Description": desc,
                "Product": product,
                "Company": company,
                "OriginalFileName": original,
                "CommandLine": proc.command_line,
                "CurrentDirectory": proc.cwd,
                "User": proc.user,
                "LogonGuid": proc.logon_guid or "{00000000-0000-0000-0000-000000000000}",
                "LogonId": proc.logon_id,
                "TerminalSessionId": proc.session,
                "IntegrityLevel": proc.integrity,
                "Hashes": self.hashes(proc.image),
                "ParentProcessGuid": parent.guid,
                "ParentProcessId": parent.pid,
                "ParentImage": parent.image,
                "ParentCommandLine": parent.command_line,
                "ParentUser": parent.user,
            }
        )
        return event

    def process_access(
        self, host: Host, time_us: int, source: Proc, target: Proc, granted: str, call_trace: str
    ) -> dict[str, Any]:
        event = self._sysmon(host, time_us, 10, version=3)
        event.update(
            {
                "SourceProcessGUID": source.guid,
                "SourceProcessId": source.pid,
                "SourceThreadId": self.rng.randrange(200, 12000, 4),
                "SourceImage": source.image,
                "TargetProcessGUID": target.guid,
                "TargetProcessId": target.pid,
                "TargetImage": target.image,
                "GrantedAccess": granted,
                "CallTrace": call_trace,
                "SourceUser": source.user,
                "TargetUser": target.user,
            }
        )
        return event

    def file_create(self, host: Host, time_us: int, proc: Proc, path: str) -> dict[str, Any]:
        event = self._sysmon(host, time_us, 11, version=2)
        event.update(
            {
                "ProcessGuid": proc.guid,
                "ProcessId": proc.pid,
                "Image": proc.image,
                "TargetFilename": path,
                "CreationUtcTime": utc_time(time_us),
                "User": proc.user,
            }
        )
        return event

    # -- Security ----------------------------------------------------------------------
    def _subject(self, host: Host, subject: str | None, logon_id: str) -> dict[str, Any]:
        if subject is None:
            return {
                "SubjectUserSid": "S-1-0-0",
                "SubjectUserName": "-",
                "SubjectDomainName": "-",
                "SubjectLogonId": "0x0",
            }
        if subject.endswith("$"):
            return {
                "SubjectUserSid": SYSTEM_SID,
                "SubjectUserName": subject,
                "SubjectDomainName": self.world.netbios,
                "SubjectLogonId": "0x3e7",
            }
        return {
            "SubjectUserSid": self.user_sid(subject),
            "SubjectUserName": subject,
            "SubjectDomainName": self.world.netbios,
            "SubjectLogonId": logon_id,
        }

    def user_sid(self, sam: str) -> str:
        return self.world.sid(1000 + int(self.world.digest("rid", sam)[:5], 16) % 90000)

    def logon(
        self,
        host: Host,
        time_us: int,
        user: str,
        logon_type: int,
        *,
        ip: str = "-",
        workstation: str = "-",
        package: str = "Kerberos",
        subject: str | None = None,
        process: str = "-",
        logon_id: str | None = None,
        elevated: bool = False,
    ) -> dict[str, Any]:
        """4624. ``package`` is "Kerberos", "NTLM" or "Negotiate"."""
        event = self._system(
            host,
            time_us,
            "Security",
            4624,
            task=12544,
            version=2,
            keywords="0x8020000000000000",
            level=0,
        )
        lm = "NTLM V2" if package == "NTLM" else "-"
        proc_name = {
            "Kerberos": "Kerberos",
            "NTLM": "NtLmSsp ",
            "Negotiate": "User32 " if logon_type in (2, 7, 10, 11) else "Advapi  ",
        }
        event.update(self._subject(host, subject, "0x3e7"))
        event.update(
            {
                "TargetUserSid": self.user_sid(user) if not user.endswith("$") else SYSTEM_SID,
                "TargetUserName": user,
                "TargetDomainName": self.world.netbios,
                "TargetLogonId": logon_id or self.logon_id(),
                "LogonType": logon_type,
                "LogonProcessName": proc_name[package],
                "AuthenticationPackageName": package,
                "WorkstationName": workstation,
                "LogonGuid": self.guid()
                if package == "Kerberos"
                else "{00000000-0000-0000-0000-000000000000}",
                "TransmittedServices": "-",
                "LmPackageName": lm,
                "KeyLength": 128 if package == "NTLM" else 0,
                "ProcessId": f"0x{self.stable_pid(host.name, process):x}"
                if process != "-"
                else "0x0",
                "ProcessName": process,
                "IpAddress": ip,
                "IpPort": str(self.rng.randint(49152, 65535))
                if ip not in ("-", "127.0.0.1")
                else ("0" if ip == "127.0.0.1" else "-"),
                "ImpersonationLevel": "%%1833",
                "RestrictedAdminMode": "-",
                "TargetOutboundUserName": "-",
                "TargetOutboundDomainName": "-",
                "VirtualAccount": "%%1843",
                "TargetLinkedLogonId": "0x0",
                "ElevatedToken": "%%1842" if elevated else "%%1843",
            }
        )
        return event

    def failed_logon(
        self,
        host: Host,
        time_us: int,
        user: str,
        logon_type: int,
        *,
        ip: str = "-",
        workstation: str = "-",
        package: str = "NTLM",
        sub_status: str = "0xc000006a",
        subject: str | None = None,
        process: str = "-",
    ) -> dict[str, Any]:
        """4625: ``sub_status`` 0xc000006a bad password, 0xc0000064 no such user."""
        event = self._system(
            host,
            time_us,
            "Security",
            4625,
            task=12544,
            version=0,
            keywords="0x8010000000000000",
            level=0,
        )
        event.update(self._subject(host, subject, "0x3e7"))
        event.update(
            {
                "TargetUserSid": "S-1-0-0",
                "TargetUserName": user,
                "TargetDomainName": self.world.netbios,
                "Status": "0xc000006d",
                "FailureReason": "%%2313",
                "SubStatus": sub_status,
                "LogonType": logon_type,
                "LogonProcessName": "NtLmSsp " if package == "NTLM" else "User32 ",
                "AuthenticationPackageName": package,
                "WorkstationName": workstation,
                "TransmittedServices": "-",
                "LmPackageName": "-",
                "KeyLength": 0,
                "ProcessId": f"0x{self.stable_pid(host.name, process):x}"
                if process != "-"
                else "0x0",
                "ProcessName": process,
                "IpAddress": ip,
                "IpPort": str(self.rng.randint(49152, 65535))
                if ip not in ("-", "127.0.0.1")
                else "0",
            }
        )
        return event

    def explicit_logon(
        self,
        host: Host,
        time_us: int,
        subject: str,
        logon_id: str,
        target_user: str,
        target_server: str,
        process: Proc,
        *,
        ip: str = "-",
    ) -> dict[str, Any]:
        """4648: a process used explicit credentials (runas, net use /user, PsExec -u)."""
        event = self._system(
            host,
            time_us,
            "Security",
            4648,
            task=12544,
            version=0,
            keywords="0x8020000000000000",
            level=0,
        )
        event.update(self._subject(host, subject, logon_id))
        event.update(
            {
                "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
                "TargetUserName": target_user,
                "TargetDomainName": self.world.netbios,
                "TargetLogonGuid": "{00000000-0000-0000-0000-000000000000}",
                "TargetServerName": target_server,
                "TargetInfo": target_server,
                "ProcessId": f"0x{process.pid:x}",
                "ProcessName": process.image,
                "IpAddress": ip,
                "IpPort": "445" if ip != "-" else "-",
            }
        )
        return event

    def task_created(
        self,
        host: Host,
        time_us: int,
        subject: str,
        logon_id: str,
        task_name: str,
        command: str,
        arguments: str,
        run_as: str,
    ) -> dict[str, Any]:
        """4698: a scheduled task was created (TaskContent is the task XML)."""
        event = self._system(
            host,
            time_us,
            "Security",
            4698,
            task=12804,
            version=1,
            keywords="0x8020000000000000",
            level=0,
        )
        content = (
            '<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.2" '
            'xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\r\n'
            f"  <RegistrationInfo>\r\n    <URI>{task_name}</URI>\r\n  </RegistrationInfo>\r\n"
            f'  <Principals>\r\n    <Principal id="Author">\r\n      <UserId>{run_as}'
            "</UserId>\r\n      <RunLevel>HighestAvailable</RunLevel>\r\n    </Principal>\r\n"
            '  </Principals>\r\n  <Actions Context="Author">\r\n    <Exec>\r\n'
            f"      <Command>{command}</Command>\r\n      <Arguments>{arguments}</Arguments>\r\n"
            "    </Exec>\r\n  </Actions>\r\n</Task>"
        )
        event.update(self._subject(host, subject, logon_id))
        event.update(
            {
                "TaskName": task_name,
                "TaskContent": content,
                "ClientProcessStartKey": str(self.rng.getrandbits(50)),
                "ClientProcessId": self.pid(),
                "ParentProcessId": self.pid(),
                "RpcCallClientLocality": 0,
                "FQDN": host.fqdn,
            }
        )
        return event

    # -- System ------------------------------------------------------------------------
    def service_install(
        self,
        host: Host,
        time_us: int,
        name: str,
        image_path: str,
        installer: str,
        *,
        start_type: str = "demand start",
        account: str = "LocalSystem",
    ) -> dict[str, Any]:
        """7045: a service was installed in the system."""
        event = self._system(
            host,
            time_us,
            "System",
            7045,
            task=0,
            version=0,
            keywords="0x8080000000000000",
            level=4,
            user_sid=self.user_sid(installer),
        )
        event.update(
            {
                "ServiceName": name,
                "ImagePath": image_path,
                "ServiceType": "user mode service",
                "StartType": start_type,
                "AccountName": account,
            }
        )
        return event
