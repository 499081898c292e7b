"""The simulated organisation: people, machines, addresses and accounts.

Everything the background and the intrusion need to agree on lives here, built once from
the seed, so that an SSH login in ``auth.log``, the TCP connection in ``conn.log`` and the
Kerberos logon on the domain controller all name the same user, host and address.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from garrison.core.errors import UsageError

#: Minimum sizes: the storyline needs a victim, admins, developers and a few servers.
MIN_USERS = 8
MIN_HOSTS = 10
MIN_DAYS = 2
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
US_PER_MIN = 60_000_000
US_PER_S = 1_000_000

_FIRST_TEXT = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Sandra Mark Betty Steven Ashley Paul Emily Andrew Kimberly Joshua Michelle Kevin Amanda "
    "Brian Melissa George Deborah Edward Stephanie Ronald Rebecca Timothy Laura Jason Helen "
    "Jeffrey Sharon Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Shirley Eric Angela Priya "
    "Wei Aisha Mateo Sofia Lukas Ingrid Tomasz Olga Kenji Yuki Omar Fatima Diego Lucia Arjun "
    "Mei Hamid Zanele Sipho Chiara Pieter Anouk Rui Beatriz Nuno Ines Siobhan Declan Freya"
)
_FIRST = tuple(_FIRST_TEXT.split())
_LAST_TEXT = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Patel Okafor "
    "Kowalski Novak Jensen Larsen Fischer Weber Rossi Russo Silva Santos Costa Pereira Tanaka "
    "Suzuki Kim Park Chen Wang Singh Khan Ali Haddad Mensah Dlamini Murphy Byrne Walsh Brennan "
    "Oliveira Ferreira Almeida Dubois Moreau Lindqvist Berg Haugen Virtanen Horvat"
)
_LAST = tuple(_LAST_TEXT.split())
_COMPANIES = (
    ("Kestrel Logistics", "kestrel", "kestrel-logistics.com"),
    ("Brightwater Health", "brightwater", "brightwaterhealth.com"),
    ("Norrland Metals", "norrland", "norrlandmetals.com"),
    ("Harbourline Insurance", "harbourline", "harbourline-ins.com"),
    ("Aldercrest Engineering", "aldercrest", "aldercrest-eng.com"),
    ("Tamarind Foods", "tamarind", "tamarindfoods.com"),
)
DEPARTMENTS = ("Finance", "HR", "Operations", "Sales", "Legal", "Procurement")


@dataclass(slots=True, frozen=True)
class Host:
    name: str
    ip: str
    #: "ws", "dc", "fs", "sql", "app", "bastion", "build", "web", "db"
    role: str
    os: str  # "windows" | "linux"
    fqdn: str

    @property
    def is_server(self) -> bool:
        return self.role != "ws"


@dataclass(slots=True, frozen=True)
class User:
    sam: str
    full_name: str
    #: "staff", "dev", "admin", "nightadmin"
    role: str
    department: str
    workstation: str
    #: Separate privileged account used on servers (admins only).
    admin_account: str = ""
    linux_uid: int = 0
    #: True when the user logs in to Linux with a password (so typos happen) not a key.
    ssh_password: bool = False
    #: True when the user runs a sync client with a long-poll heartbeat (beacon look-alike).
    dropbox: bool = False
    #: Usual first hour of work, as minutes after midnight.
    start_min: int = 510

    @property
    def works_nights(self) -> bool:
        return self.role == "nightadmin"

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "nightadmin")


@dataclass(slots=True)
class World:
    seed: int
    company: str
    netbios: str
    dns_domain: str
    public_domain: str
    domain_sid: str
    start_us: int
    days: int
    hosts: list[Host]
    users: list[User]
    service_accounts: tuple[str, ...] = ("svc_backup", "svc_sql", "svc_monitor", "svc_web")
    linux_system_users: tuple[str, ...] = ("deploy", "backup", "postgres", "www-data")
    by_name: dict[str, Host] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {h.name: h for h in self.hosts}

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * US_PER_DAY

    def role(self, role: str) -> list[Host]:
        return [h for h in self.hosts if h.role == role]

    def one(self, role: str) -> Host:
        return self.role(role)[0]

    @property
    def windows(self) -> list[Host]:
        return [h for h in self.hosts if h.os == "windows"]

    @property
    def linux(self) -> list[Host]:
        return [h for h in self.hosts if h.os == "linux"]

    @property
    def workstations(self) -> list[Host]:
        return self.role("ws")

    @property
    def dcs(self) -> list[Host]:
        return self.role("dc")

    def day_start(self, day: int) -> int:
        return self.start_us + day * US_PER_DAY

    def is_weekend(self, day: int) -> bool:
        when = datetime.fromtimestamp(self.day_start(day) / US_PER_S, tz=UTC)
        return when.weekday() >= 5

    def user(self, sam: str) -> User:
        return next(u for u in self.users if u.sam == sam)

    def sid(self, rid: int) -> str:
        return f"{self.domain_sid}-{rid}"

    def digest(self, *parts: object) -> str:
        """A stable hex digest of the parts under this world's seed (hashes, GUIDs)."""
        text = "\0".join(str(p) for p in (self.seed, *parts))
        return hashlib.sha256(text.encode()).hexdigest()


def rng_for(seed: int, stream: str) -> random.Random:
    """An independent, reproducible random stream: string seeds hash the same in every run."""
    return random.Random(f"garrison-demo:{seed}:{stream}")  # noqa: S311 - seeded synthetic data, reproducible on purpose; never a secret


def _host_plan(n_hosts: int) -> list[tuple[str, str, str]]:
    plan = [
        ("DC01", "dc", "windows"),
        ("FS01", "fs", "windows"),
        ("SQL01", "sql", "windows"),
        ("APP01", "app", "windows"),
    ]
    if n_hosts >= 20:
        plan.append(("DC02", "dc", "windows"))
    plan += [("lnx-bastion01", "bastion", "linux"), ("lnx-build01", "build", "linux")]
    if n_hosts >= 16:
        plan.append(("lnx-web01", "web", "linux"))
    if n_hosts >= 24:
        plan.append(("lnx-db01", "db", "linux"))
    return plan


def _hosts(rng: random.Random, n_hosts: int, dns_domain: str) -> list[Host]:
    hosts: list[Host] = []
    server_ip = {"dc": 10, "fs": 20, "sql": 30, "app": 40}
    linux_ip = {"bastion": 10, "build": 21, "web": 31, "db": 41}
    for name, role, os_name in _host_plan(n_hosts):
        if os_name == "windows":
            count = sum(1 for h in hosts if h.role == role)
            ip = f"10.10.1.{server_ip[role] + count}"
            hosts.append(Host(name, ip, role, os_name, f"{name}.{dns_domain}"))
        else:
            ip = f"10.10.5.{linux_ip[role]}"
            hosts.append(Host(name, ip, role, os_name, f"{name}.{dns_domain}"))
    n_ws = n_hosts - len(hosts)
    numbers = sorted(rng.sample(range(100, 9999), n_ws))
    octets = sorted(rng.sample(range(2, 500), n_ws))
    for number, octet in zip(numbers, octets, strict=True):
        name = f"WS-{number:04d}"
        ip = f"10.10.{20 + octet // 250}.{octet % 250 + 2}"
        hosts.append(Host(name, ip, "ws", "windows", f"{name}.{dns_domain}"))
    return hosts


def _roles(n_users: int) -> list[str]:
    night = max(1, n_users // 20) if n_users >= 12 else 0
    admins = max(2, n_users // 12)
    devs = max(2, n_users // 6)
    roles = ["admin"] * admins + ["nightadmin"] * night + ["dev"] * devs
    return roles + ["staff"] * (n_users - len(roles))


def _users(rng: random.Random, n_users: int, workstations: list[Host]) -> list[User]:
    taken: set[str] = set()
    users: list[User] = []
    roles = _roles(n_users)
    rng.shuffle(roles)
    for i, role in enumerate(roles):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        sam = (first[0] + last).lower()
        while sam in taken:
            sam = f"{(first[0] + last).lower()}{rng.randint(2, 9)}"
        taken.add(sam)
        admin = role in ("admin", "nightadmin")
        dept = "IT" if admin or role == "dev" else rng.choice(DEPARTMENTS)
        users.append(
            User(
                sam=sam,
                full_name=f"{first} {last}",
                role=role,
                department=dept,
                workstation=workstations[i % len(workstations)].name,
                admin_account=f"adm-{sam}" if admin else "",
                linux_uid=1001 + i if (admin or role == "dev") else 0,
                ssh_password=rng.random() < 0.4,
                dropbox=rng.random() < 0.12,
                start_min=int(rng.gauss(500, 30)) if role != "nightadmin" else 20 * 60,
            )
        )
    return users


def build_world(seed: int, users: int, hosts: int, days: int, start: date) -> World:
    """The organisation for a seed and a size; raises ``UsageError`` for sizes too small."""
    if users < MIN_USERS:
        raise UsageError(f"--users must be at least {MIN_USERS}")
    if hosts < MIN_HOSTS:
        raise UsageError(f"--hosts must be at least {MIN_HOSTS}")
    if days < MIN_DAYS:
        raise UsageError(f"--days must be at least {MIN_DAYS}")
    if users > 5000 or hosts > 5000 or days > 60:
        raise UsageError("the demo is sized for up to 5000 users, 5000 hosts and 60 days")
    rng = rng_for(seed, "world")
    company, short, public = rng.choice(_COMPANIES)
    dns_domain = f"{short}.local"
    host_list = _hosts(rng, hosts, dns_domain)
    workstations = [h for h in host_list if h.role == "ws"]
    user_list = _users(rng, users, workstations)
    sid = "S-1-5-21-" + "-".join(str(rng.randint(10**9, 4 * 10**9)) for _ in range(3))
    start_us = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()) * US_PER_S
    return World(
        seed=seed,
        company=company,
        netbios=short.upper(),
        dns_domain=dns_domain,
        public_domain=public,
        domain_sid=sid,
        start_us=start_us,
        days=days,
        hosts=host_list,
        users=user_list,
    )
