"""The generation context shared by the background and the scenario, and small helpers.

Keeping one ``Gen`` means both halves draw addresses, process ids and DNS answers from the
same factories, so attack records are indistinguishable in form from benign ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from garrison.demo.domains import Catalog
from garrison.demo.linuxauth import AuthFactory
from garrison.demo.netflow import NetFactory
from garrison.demo.recorder import Recorder
from garrison.demo.winevents import SYSTEM_USER, Proc, WinFactory
from garrison.demo.world import Host, World, rng_for

OFFICE = "C:\\Program Files\\Microsoft Office\\root\\Office16\\"
SYS32 = "C:\\Windows\\System32\\"
POWERSHELL = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
EDGE = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"
CHROME = "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"


@dataclass(slots=True)
class Gen:
    world: World
    rec: Recorder
    win: WinFactory
    net: NetFactory
    auth: AuthFactory
    catalog: Catalog
    rng: random.Random
    #: Per-host long-running processes (services.exe, winlogon.exe, Schedule svchost ...).
    _sys: dict[tuple[str, str], Proc] = field(default_factory=dict)
    #: Next due time of each periodic job, so timers run on across midnight.
    timers: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls, world: World, stream: str) -> Gen:
        rec = Recorder(world.start_us, world.end_us)
        return cls.attach(world, rec, Catalog(world), stream)

    @classmethod
    def attach(cls, world: World, rec: Recorder, catalog: Catalog, stream: str) -> Gen:
        """A context with its own random stream writing into an existing recorder."""
        rng = rng_for(world.seed, stream)
        net = NetFactory(world, catalog, rec, rng_for(world.seed, stream + ":net"))
        auth = AuthFactory(world, rec, net, rng_for(world.seed, stream + ":auth"))
        win = WinFactory(world, rng_for(world.seed, stream + ":win"))
        return cls(world, rec, win, net, auth, catalog, rng)

    def winlog(self, time_us: int, event: dict[str, Any], stage: str = "") -> None:
        self.rec.add("win", time_us, event, stage)

    def sysproc(self, host: Host, what: str) -> Proc:
        """The host's boot-time processes by a short name."""
        key = (host.name, what)
        if key not in self._sys:
            image, cmd = {
                "services": (SYS32 + "services.exe", "C:\\Windows\\system32\\services.exe"),
                "winlogon": (SYS32 + "winlogon.exe", "winlogon.exe"),
                "schedule": (
                    SYS32 + "svchost.exe",
                    "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
                ),
                "wmi": (
                    SYS32 + "wbem\\WmiPrvSE.exe",
                    "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
                ),
                "termsvc": (
                    SYS32 + "svchost.exe",
                    "C:\\Windows\\System32\\svchost.exe -k termsvcs -s TermService",
                ),
                "lsass": (SYS32 + "lsass.exe", "C:\\Windows\\system32\\lsass.exe"),
                "dcom": (
                    SYS32 + "svchost.exe",
                    "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p",
                ),
            }[what]
            self._sys[key] = self.win.system_proc(host.name, image, cmd)
        return self._sys[key]

    def spawn(
        self,
        time_us: int,
        host: Host,
        parent: Proc,
        image: str,
        command_line: str,
        stage: str = "",
        **kw: Any,
    ) -> Proc:
        """Start a process: a Sysmon 1 record, and the new ``Proc`` for its children.

        Keyword arguments (``user``, ``integrity``, ``cwd``, ``logon_id``, ``logon_guid``,
        ``session``) override what the child would inherit from its parent."""
        proc = self.win.new_proc(parent, image, command_line, **kw)
        self.winlog(time_us, self.win.process_create(host, time_us, proc, parent), stage)
        return proc

    def system_spawn(
        self,
        time_us: int,
        host: Host,
        parent_what: str,
        image: str,
        command_line: str,
        stage: str = "",
    ) -> Proc:
        return self.spawn(
            time_us,
            host,
            self.sysproc(host, parent_what),
            image,
            command_line,
            stage,
            user=SYSTEM_USER,
            integrity="System",
        )

    def jitter(self, base_us: int, spread_us: int) -> int:
        return base_us + self.rng.randint(-spread_us, spread_us)
