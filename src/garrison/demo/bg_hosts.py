"""Benign machine and service activity: what runs whether or not anyone is at work.

Agents phone home on jittered timers (the EDR heartbeat every ~15 min from every host, a
sync client's long-poll every ~65 s, chrony every 1024 s): periodic traffic that a naive
beacon detector will flag, and that a good one has to explain away. Backups move tens of
gigabytes at night to an internal repository; monitoring probes every server.
"""

from __future__ import annotations

from collections.abc import Callable

from garrison.demo.context import SYS32, Gen
from garrison.demo.world import US_PER_DAY, US_PER_HOUR, US_PER_MIN, US_PER_S, Host

EDR_DOMAIN = "hb.eu1.aegis-endpoint.com"
BACKUP_REPO = "10.10.9.20"
NTP_IP = "185.125.190.57"
PERIODIC_NAMES: dict[str, str] = {
    EDR_DOMAIN: "aws",
    "settings-win.data.microsoft.com": "microsoft",
    "v10.events.data.microsoft.com": "microsoft",
    "slscr.update.microsoft.com": "microsoft",
    "fe3cr.delivery.mp.microsoft.com": "microsoft",
    "definitionupdates.microsoft.com": "akamai",
    "update.googleapis.com": "google",
    "bolt.dropbox.com": "aws",
    "client.dropbox.com": "aws",
    "archive.ubuntu.com": "canonical",
    "security.ubuntu.com": "canonical",
}
_DEFENDER = "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MpCmdRun.exe"
_GOOGLE_UPDATE = "C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe"
_TASKHOST_ARGS = (
    "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly",
    "taskhostw.exe SYSTEM",
    "taskhostw.exe Install $(Arg0)",
    "taskhostw.exe KEYROAMING",
)


def register_names(gen: Gen) -> None:
    for name, provider in PERIODIC_NAMES.items():
        gen.catalog.add(name, provider)


def hosts_day(gen: Gen, day: int) -> None:
    for host in gen.world.windows:
        windows_machine_day(gen, host, day)
    for host in gen.world.linux:
        linux_day(gen, host, day)
    service_day(gen, day)


def _phase(gen: Gen, host: Host, what: str, period_us: int) -> int:
    return int(gen.world.digest("phase", host.name, what)[:8], 16) % period_us


def _ticks(gen: Gen, day: int, key: str, first: int, step: Callable[[], int]) -> list[int]:
    """The due times of a periodic job within ``day``; the timer carries over midnight."""
    day0 = gen.world.day_start(day)
    t = gen.timers.get(key, day0 + first)
    out = []
    while t < day0 + US_PER_DAY:
        out.append(t)
        t += step()
    gen.timers[key] = t
    return out


def windows_machine_day(gen: Gen, host: Host, day: int) -> None:
    rng, net = gen.rng, gen.net
    day0 = gen.world.day_start(day)
    # EDR heartbeat: every host, all day, 15 min +/- 10 %.
    for t in _ticks(
        gen,
        day,
        f"edr:{host.name}",
        _phase(gen, host, "edr", 900 * US_PER_S),
        lambda: int(rng.uniform(810, 990) * US_PER_S),
    ):
        net.https(
            t,
            host.ip,
            EDR_DOMAIN,
            orig_bytes=rng.randint(1250, 1550),
            resp_bytes=rng.randint(460, 580),
            duration=round(rng.uniform(0.18, 0.45), 6),
        )
    # Machine account refreshes policy against a DC every 90 +/- 30 min.
    if host.role != "dc":
        for t in _ticks(
            gen,
            day,
            f"gpo:{host.name}",
            _phase(gen, host, "gpo", 90 * US_PER_MIN),
            lambda: int(rng.uniform(60, 120) * US_PER_MIN),
        ):
            dc = rng.choice(gen.world.dcs)
            gen.winlog(t, gen.win.logon(dc, t, f"{host.name}$", 3, ip=host.ip))
            net.conn(
                t - 40_000,
                host.ip,
                dc.ip,
                88,
                service="krb_tcp",
                duration=0.004,
                orig_bytes=rng.randint(1500, 1700),
                resp_bytes=rng.randint(1400, 1600),
            )
            net.conn(
                t + 30_000,
                host.ip,
                dc.ip,
                389,
                service="ldap",
                duration=0.05,
                orig_bytes=rng.randint(900, 3000),
                resp_bytes=rng.randint(2000, 9000),
            )
    for _ in range(rng.randint(3, 6)):
        net.https(
            day0 + rng.randrange(US_PER_DAY),
            host.ip,
            "settings-win.data.microsoft.com",
            orig_bytes=rng.randint(900, 1400),
            resp_bytes=rng.randint(3000, 9000),
            duration=0.4,
        )
    for _ in range(rng.randint(4, 10)):
        net.https(
            day0 + rng.randrange(US_PER_DAY),
            host.ip,
            "v10.events.data.microsoft.com",
            orig_bytes=rng.randint(4000, 60000),
            resp_bytes=rng.randint(500, 900),
            duration=0.7,
        )
    t = day0 + rng.randrange(US_PER_DAY)
    net.https(
        t, host.ip, "slscr.update.microsoft.com", orig_bytes=2100, resp_bytes=14_000, duration=0.9
    )
    net.https(
        t + 3 * US_PER_S,
        host.ip,
        "fe3cr.delivery.mp.microsoft.com",
        orig_bytes=rng.randint(5000, 9000),
        resp_bytes=rng.randint(40_000, 400_000),
        duration=2.1,
    )
    for _ in range(2):
        t = day0 + rng.randrange(US_PER_DAY)
        gen.system_spawn(
            t,
            host,
            "schedule",
            _DEFENDER,
            f'"{_DEFENDER}" SignaturesUpdateService -ScheduleJob -RestrictPrivileges '
            "-DailyScheduledTask",
        )
        net.https(
            t + 2 * US_PER_S,
            host.ip,
            "definitionupdates.microsoft.com",
            orig_bytes=1800,
            resp_bytes=rng.randint(200_000, 9_000_000),
            duration=4.0,
        )
    for _ in range(rng.randint(3, 6)):
        t = day0 + rng.randrange(US_PER_DAY)
        gen.system_spawn(t, host, "schedule", SYS32 + "taskhostw.exe", rng.choice(_TASKHOST_ARGS))
    if host.role == "ws":
        for _ in range(2):
            t = day0 + rng.randrange(US_PER_DAY)
            gen.system_spawn(
                t,
                host,
                "schedule",
                _GOOGLE_UPDATE,
                f'"{_GOOGLE_UPDATE}" /ua /installsource scheduler',
            )
            net.https(
                t + 1 * US_PER_S,
                host.ip,
                "update.googleapis.com",
                orig_bytes=1900,
                resp_bytes=rng.randint(900, 2500),
                duration=0.5,
            )
    for _ in range(rng.randint(1, 4)):
        net.query(day0 + rng.randrange(US_PER_DAY), host.ip, f"wpad.{gen.world.dns_domain}")


def linux_day(gen: Gen, host: Host, day: int) -> None:
    rng, auth, net = gen.rng, gen.auth, gen.net
    day0 = gen.world.day_start(day)
    for minute in range(0, 24 * 60, 10):  # sysstat collector
        auth.cron(
            day0 + minute * US_PER_MIN + rng.randint(0, 900_000),
            host,
            "root",
            rng.uniform(0.05, 0.9),
        )
    for hour in range(24):  # cron.hourly
        auth.cron(
            day0 + hour * US_PER_HOUR + 17 * US_PER_MIN + rng.randint(0, 500_000),
            host,
            "root",
            rng.uniform(0.1, 2.0),
        )
    auth.cron(
        day0 + 6 * US_PER_HOUR + 25 * US_PER_MIN + rng.randint(0, 900_000),
        host,
        "root",
        rng.uniform(20, 140),
    )
    if host.role == "web":
        for minute in range(0, 24 * 60, 15):
            auth.cron(
                day0 + minute * US_PER_MIN + rng.randint(0, 400_000),
                host,
                "www-data",
                rng.uniform(0.5, 6.0),
            )
    if host.role == "db":
        t = day0 + 2 * US_PER_HOUR + rng.randint(0, 60 * US_PER_S)
        auth.cron(t, host, "postgres", rng.uniform(500, 900))
        net.conn(
            t + 40 * US_PER_S,
            host.ip,
            BACKUP_REPO,
            22,
            service="ssh",
            duration=rng.uniform(500, 800),
            orig_bytes=rng.randint(2 * 10**9, 4 * 10**9),
            resp_bytes=rng.randint(200_000, 900_000),
        )
    # chrony: very regular NTP polls, no DNS (resolved once at boot).
    for t in _ticks(
        gen,
        day,
        f"ntp:{host.name}",
        _phase(gen, host, "ntp", 1024 * US_PER_S),
        lambda: 1024 * US_PER_S + rng.randint(-400_000, 400_000),
    ):
        net.conn(
            t,
            host.ip,
            NTP_IP,
            123,
            proto="udp",
            service="ntp",
            duration=round(rng.uniform(0.015, 0.03), 6),
            orig_bytes=48,
            resp_bytes=48,
            sport=123,
        )
    for base in (6, 18):  # apt-daily timer
        t = day0 + base * US_PER_HOUR + rng.randrange(12 * US_PER_HOUR)
        for name in ("archive.ubuntu.com", "security.ubuntu.com"):
            ips = net.lookup(t, host.ip, name)
            if ips:
                net.conn(
                    t + 30_000,
                    host.ip,
                    ips[0],
                    80,
                    service="http",
                    duration=1.2,
                    orig_bytes=rng.randint(2000, 6000),
                    resp_bytes=rng.randint(90_000, 3_000_000),
                )


def service_day(gen: Gen, day: int) -> None:
    world, rng, net = gen.world, gen.rng, gen.net
    day0 = world.day_start(day)
    app, sql, fs = world.one("app"), world.one("sql"), world.one("fs")
    for host, size in ((fs, (2 * 10**10, 6 * 10**10)), (sql, (5 * 10**9, 1.5 * 10**10))):
        t = day0 + 1 * US_PER_HOUR + rng.randint(0, 5 * US_PER_MIN)
        gen.winlog(
            t,
            gen.win.logon(
                host,
                t,
                "svc_backup",
                4,
                subject=f"{host.name}$",
                package="Negotiate",
                process=SYS32 + "svchost.exe",
            ),
        )
        agent = "C:\\Program Files\\Harbor Backup\\bkagent.exe"
        gen.spawn(
            t + 200_000,
            host,
            gen.sysproc(host, "schedule"),
            agent,
            f'"{agent}" --job nightly-{host.name.lower()} --target \\\\{BACKUP_REPO}\\repo',
            user=f"{world.netbios}\\svc_backup",
            integrity="High",
        )
        net.conn(
            t + 2 * US_PER_S,
            host.ip,
            BACKUP_REPO,
            445,
            service="smb",
            duration=rng.uniform(3000, 9000),
            orig_bytes=rng.randint(int(size[0]), int(size[1])),
            resp_bytes=rng.randint(2_000_000, 9_000_000),
        )
    # Web application's connection pool to SQL; re-authenticates every 30 min.
    for t in _ticks(
        gen,
        day,
        "sqlpool",
        rng.randint(0, 60 * US_PER_S),
        lambda: 5 * US_PER_MIN + rng.randint(-20 * US_PER_S, 20 * US_PER_S),
    ):
        if (t - day0) // (30 * US_PER_MIN) != (t - day0 - 5 * US_PER_MIN) // (30 * US_PER_MIN):
            gen.winlog(t, gen.win.logon(sql, t, "svc_web", 3, ip=app.ip))
        net.conn(
            t,
            app.ip,
            sql.ip,
            1433,
            service="-",
            duration=rng.uniform(200, 299),
            orig_bytes=rng.randint(20_000, 400_000),
            resp_bytes=rng.randint(80_000, 4_000_000),
        )
    # Monitoring: SSH banner checks every 10 min, WMI checks of each server every 30 min.
    for host in world.linux:
        for t in _ticks(
            gen,
            day,
            f"probe:{host.name}",
            _phase(gen, host, "probe", 10 * US_PER_MIN),
            lambda: 10 * US_PER_MIN + rng.randint(-3 * US_PER_S, 3 * US_PER_S),
        ):
            gen.auth.probe(t, host, app.ip)
    for host in world.windows:
        if not host.is_server or host is app:
            continue
        for t in _ticks(
            gen,
            day,
            f"wmi:{host.name}",
            _phase(gen, host, "wmi", 30 * US_PER_MIN),
            lambda: 30 * US_PER_MIN + rng.randint(-30 * US_PER_S, 30 * US_PER_S),
        ):
            gen.winlog(
                t,
                gen.win.logon(
                    host, t, "svc_monitor", 3, ip=app.ip, workstation=app.name, package="NTLM"
                ),
            )
            net.conn(
                t - 20_000,
                app.ip,
                host.ip,
                135,
                service="dce_rpc",
                duration=0.01,
                orig_bytes=rng.randint(200, 400),
                resp_bytes=rng.randint(150, 300),
            )
            net.conn(
                t + 10_000,
                app.ip,
                host.ip,
                49667,
                service="dce_rpc",
                duration=0.8,
                orig_bytes=rng.randint(3000, 9000),
                resp_bytes=rng.randint(9000, 60000),
            )
    _deploys(gen, day)


def _deploys(gen: Gen, day: int) -> None:
    world, rng = gen.world, gen.rng
    webs, build = world.role("web"), world.one("build")
    if not webs or world.is_weekend(day):
        return
    for _ in range(rng.randint(2, 4)):
        t = world.day_start(day) + rng.randint(10 * 60, 17 * 60) * US_PER_MIN
        gen.net.https(
            t - 90 * US_PER_S,
            build.ip,
            "github.com",
            orig_bytes=9000,
            resp_bytes=rng.randint(400_000, 9_000_000),
            duration=3.0,
        )
        gen.auth.ssh_session(
            t,
            webs[0],
            "deploy",
            build.ip,
            rng.uniform(20, 90),
            sudo=("/usr/bin/systemctl restart portal.service",),
        )
