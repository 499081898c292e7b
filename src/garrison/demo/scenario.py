"""The intrusion, as a red-team report would tell it, stage by stage.

Day A: a finance user follows a link to a look-alike of the company's domain and opens a
macro document; PowerShell fetches a DLL that rundll32 runs; the implant finds its C2 through
a DGA and beacons every ~60 s. The operator enumerates the domain, sprays one password
against every account, brute-forces SSH on the build server, and dumps LSASS (an IT admin
had logged on to the workstation that morning). Day B: with the admin's hash, PsExec to the
file server, WMI to the SQL server, a remote scheduled task on the application server; then
the finance and HR shares are archived and copied out with rclone over SFTP, and a small
file leaves through a DNS tunnel.

Every record an attacker caused carries its stage name; ``StageSpec`` holds the ATT&CK
mapping. The generator only writes records; labels are derived from what was written.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field

from garrison.demo.domains import PROVIDERS, Answer
from garrison.demo.world import US_PER_HOUR, US_PER_MIN, World, rng_for


@dataclass(slots=True, frozen=True)
class StageSpec:
    name: str
    title: str
    summary: str
    #: (technique id, tactic short name) pairs.
    techniques: tuple[tuple[str, str], ...]


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "phishing-macro",
        "Phishing link to a macro document",
        "A user downloads a .docm from a look-alike domain; Word starts PowerShell with "
        "an encoded command that fetches a DLL, run by rundll32 and persisted as a "
        "scheduled task.",
        (
            ("T1566.002", "initial-access"),
            ("T1204.002", "execution"),
            ("T1059.001", "execution"),
            ("T1105", "command-and-control"),
            ("T1218.011", "stealth"),
            ("T1053.005", "persistence"),
        ),
    ),
    StageSpec(
        "c2-dga-beacon",
        "DGA rendezvous and HTTPS beaconing",
        "The implant tries DGA domains until one resolves, then checks in with the C2 "
        "server about every 60 s with small jitter and near-constant sizes.",
        (("T1568.002", "command-and-control"), ("T1071.001", "command-and-control")),
    ),
    StageSpec(
        "discovery",
        "Domain discovery through the implant",
        "whoami, domain admin group, trusts and file server shares, plus an LDAP dump.",
        (
            ("T1033", "discovery"),
            ("T1069.002", "discovery"),
            ("T1482", "discovery"),
            ("T1135", "discovery"),
            ("T1087.002", "discovery"),
        ),
    ),
    StageSpec(
        "password-spray",
        "Password spraying against the domain",
        "One password tried against every account over SMB/NTLM from the infected "
        "workstation; a few accounts accept it.",
        (("T1110.003", "credential-access"),),
    ),
    StageSpec(
        "ssh-brute-force",
        "SSH password guessing on the build server",
        "Common and real account names guessed over SSH from the infected workstation "
        "until the deploy account accepts; sudo rights checked, shadow file read.",
        (("T1110.001", "credential-access"), ("T1021.004", "lateral-movement")),
    ),
    StageSpec(
        "lsass-dump",
        "LSASS memory dump with ProcDump",
        "ProcDump dumps LSASS on the workstation; the dump leaves over the C2 channel "
        "and is deleted. It holds the hash of an IT admin who had logged on there.",
        (("T1003.001", "credential-access"), ("T1070.004", "stealth")),
    ),
    StageSpec(
        "lateral-movement",
        "Lateral movement with the stolen admin account",
        "Pass-the-hash with the admin account: PsExec to the file server, WMI process "
        "creation on the SQL server, a remote scheduled task on the application server.",
        (
            ("T1550.002", "lateral-movement"),
            ("T1021.002", "lateral-movement"),
            ("T1569.002", "execution"),
            ("T1047", "execution"),
            ("T1053.005", "execution"),
        ),
    ),
    StageSpec(
        "exfil-rclone",
        "Archive and copy out the file shares",
        "7-Zip archives the finance and HR shares on the file server; rclone copies "
        "them over SFTP to an external host (gigabytes to a rare address).",
        (("T1560.001", "collection"), ("T1570", "lateral-movement"), ("T1048.002", "exfiltration")),
    ),
    StageSpec(
        "exfil-dns-tunnel",
        "DNS tunnelling",
        "A small file leaves as long, high-entropy TXT queries under one domain.",
        (("T1048.003", "exfiltration"), ("T1071.004", "command-and-control")),
    ),
)
STAGE_NAMES = tuple(s.name for s in STAGES)
_ATTACKER_PREFIXES = (45, 89, 91, 103, 146, 176, 185, 193, 194, 195, 5, 37, 82)


@dataclass(slots=True)
class Entities:
    users: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    #: Accounts that were only targeted (sprayed, guessed) and not taken over.
    targeted_users: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, list[str]]:
        out = {
            "users": sorted(self.users),
            "hosts": sorted(self.hosts),
            "ips": sorted(self.ips),
            "domains": sorted(self.domains),
        }
        if self.targeted_users:
            out["targeted_users"] = sorted(self.targeted_users)
        return out


@dataclass(slots=True)
class Cast:
    """Who and what the intrusion uses; chosen from the seed."""

    victim: str
    victim_host: str
    admin: str
    admin_account: str
    admin_host: str
    lookalike: str
    lookalike_ip: str
    c2_domain: str
    c2_ip: str
    dga: tuple[str, ...]
    exfil_ip: str
    tunnel_domain: str
    sprayed_ok: tuple[str, ...]
    day_a: int
    day_b: int


def public_ip(rng_seed: int, stream: str, taken: set[str]) -> str:
    """A globally routable address outside the benign providers' blocks."""
    rng = rng_for(rng_seed, stream)
    benign = tuple(p for prefixes in PROVIDERS.values() for p in prefixes)
    while True:
        ip = (
            f"{rng.choice(_ATTACKER_PREFIXES)}.{rng.randint(1, 254)}."
            f"{rng.randint(1, 254)}.{rng.randint(2, 253)}"
        )
        if ip not in taken and ipaddress.ip_address(ip).is_global and not ip.startswith(benign):
            taken.add(ip)
            return ip


def lookalike_of(domain: str) -> str:
    """A homoglyph look-alike of a registered domain (i->l, o->0, m->rn, l->1)."""
    name, _, tld = domain.partition(".")
    for old, new in (("i", "l"), ("o", "0"), ("m", "rn"), ("l", "1"), ("e", "3")):
        idx = name.find(old, 1)
        if idx > 0:
            return f"{name[:idx]}{new}{name[idx + 1 :]}.{tld}"
    return f"{name}-portal.{tld}"


def dga_domains(seed: int, day: int, count: int) -> tuple[str, ...]:
    """Pseudo-random rendezvous names for a day, as a DGA family would derive them."""
    rng = rng_for(seed, f"dga:{day}")
    tlds = (".com", ".net", ".org", ".info", ".top", ".xyz")
    out = []
    for _ in range(count):
        length = rng.randint(11, 18)
        out.append(
            "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))
            + rng.choice(tlds)
        )
    return tuple(out)


def cast_for(world: World) -> Cast:
    rng = rng_for(world.seed, "cast")
    shared = {u.workstation for u in world.users}
    counts = {ws: sum(1 for u in world.users if u.workstation == ws) for ws in shared}
    staff = [u for u in world.users if u.role == "staff"]
    own_ws = [u for u in staff if counts[u.workstation] == 1] or staff
    finance = [u for u in own_ws if u.department == "Finance"] or own_ws
    victim = rng.choice(finance)
    admins = [u for u in world.users if u.role == "admin"]
    admin = next((u for u in admins if u.workstation != victim.workstation), admins[0])
    days = [d for d in range(world.days - 1) if not world.is_weekend(d)]
    day_a = days[0] if days else 0
    taken: set[str] = set()
    dga = dga_domains(world.seed, day_a, rng.randint(24, 38))
    others = [u.sam for u in staff if u.sam != victim.sam]
    return Cast(
        victim=victim.sam,
        victim_host=victim.workstation,
        admin=admin.sam,
        admin_account=admin.admin_account,
        admin_host=admin.workstation,
        lookalike=lookalike_of(world.public_domain),
        lookalike_ip=public_ip(world.seed, "ip:lookalike", taken),
        c2_domain=dga[-1],
        c2_ip=public_ip(world.seed, "ip:c2", taken),
        dga=dga,
        exfil_ip=public_ip(world.seed, "ip:exfil", taken),
        tunnel_domain=rng.choice(("static", "cdn", "img", "edge"))
        + "-"
        + rng.choice(("sync", "cache", "metrics", "assets"))
        + rng.choice((".net", ".com", ".io")),
        sprayed_ok=tuple(sorted(rng.sample(others, k=min(2, len(others))))),
        day_a=day_a,
        day_b=day_a + 1,
    )


def encoded_command(script: str) -> str:
    """PowerShell's -EncodedCommand form: base64 of the UTF-16LE script."""
    return base64.b64encode(script.encode("utf-16-le")).decode()


def day_time(world: World, day: int, hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return world.day_start(day) + int(hours) * US_PER_HOUR + int(minutes) * US_PER_MIN


def nx() -> Answer:
    return Answer(3, (), ())
