"""The intrusion's operator: shared state and the moves every stage uses.

The implant on the victim's workstation runs commands (``shell``), check-ins carry their
output (``tasking``), and every stage notes the entities it touches for the labels.
"""

from __future__ import annotations

from garrison.demo.context import SYS32, Gen
from garrison.demo.scenario import STAGE_NAMES, Cast, Entities, day_time
from garrison.demo.winevents import Proc
from garrison.demo.world import US_PER_MIN, Host, World


class Operator:
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

    def tasking(self, t: int, out: int, back: int, stage: str = "c2-dga-beacon") -> None:
        """A check-in that carries a command's output or a tool (bigger than a heartbeat)."""
        self.taskings.append((t, out, back, stage))

    def shell(self, t: int, stage: str, command: str) -> Proc:
        """The implant runs ``cmd.exe /C command``."""
        assert self.implant is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
        return self.gen.spawn(
            t,
            self.ws,
            self.implant,
            SYS32 + "cmd.exe",
            f"C:\\Windows\\system32\\cmd.exe /C {command}",
            stage,
        )

    def admin_network_logon(self, t: int, target: Host, stage: str) -> str:
        """The stolen admin account logs on to ``target`` over the network (type 3, NTLM)
        from the victim's workstation, as SMB, RPC and task-scheduler access all do.
        Returns the session's logon id: what the session does on the target (a task
        registered, 4698) carries it as SubjectLogonId, as on real Windows."""
        event = self.gen.win.logon(
            target,
            t,
            self.cast.admin_account,
            3,
            ip=self.ws.ip,
            workstation=self.ws.name,
            package="NTLM",
        )
        self.gen.winlog(t, event, stage)
        return str(event["TargetLogonId"])
