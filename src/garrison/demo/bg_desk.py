"""A user at a workstation: the state a background session keeps, and the moves every kind
of work uses (the browser, a PowerShell window).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from garrison.demo.context import CHROME, EDGE, POWERSHELL, Gen
from garrison.demo.winevents import Proc
from garrison.demo.world import US_PER_S, Host, User


@dataclass(slots=True)
class Shift:
    start: int
    end: int
    lunch: tuple[int, int] | None


class Desk:
    """One user at their workstation for one shift: the state every kind of work shares."""

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

    def _shell(self, t: int) -> Proc:
        assert self.explorer is not None  # noqa: S101 - narrows the type for mypy; set when the persona starts
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
