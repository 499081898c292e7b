"""The nftables connector against the real ``nft``: ``check`` (``nft -c``) accepts the
rendered text and the kernel refuses a broken one; ``send`` blocks and lifts an address
inside a throwaway network namespace (``unshare --net``), so the host's firewall is never
touched. Skipped with a reason where nft, root or unshare is missing (``.ci/system-packages``
installs nftables)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.nftables import Nftables, NftablesOptions
from garrison.respond.perform import perform

NFT = shutil.which("nft")
needs_nft = pytest.mark.skipif(NFT is None, reason="nft not installed (.ci/system-packages)")
SRC = Path(__file__).resolve().parents[3] / "src"


def _nft_usable() -> str | None:
    if NFT is None:
        return "nft not installed (.ci/system-packages installs nftables)"
    probe = subprocess.run([NFT, "-c", "-f", "-"], input="table inet probe {}\n", text=True,
                           capture_output=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        return f"nft -c does not work here (needs CAP_NET_ADMIN): {probe.stderr.strip()[:80]}"
    return None


def _block(ip: str = "192.0.2.7", undo: bool = False) -> Delivery:
    return Delivery("block.ip", {"ip": ip, "duration": "1h", "reason": "test"}, "k", undo=undo)


def test_check_runs_nft_c_on_valid_text() -> None:
    if (why := _nft_usable()) is not None:
        pytest.skip(why)
    conn = Nftables("edge", NftablesOptions())
    receipt = perform(_block(), {"edge": conn}, {"firewall": "edge"}, live=False)
    assert "nft -c accepted" in receipt.detail
    undo = perform(_block("2001:db8::9", undo=True), {"edge": conn}, {"firewall": "edge"},
                   live=False)  # fmt: skip
    assert "unblock" in undo.detail


def test_nft_c_rejects_invalid_text() -> None:
    if (why := _nft_usable()) is not None:
        pytest.skip(why)
    conn = Nftables("edge", NftablesOptions())
    with pytest.raises(ConnectorError) as err:
        conn._run(["-c", "-f", "-"], "table inet garrison { set s { type ipv9_addr; } }\n")
    assert "nft refused" in err.value.reason and not err.value.retryable


def test_missing_nft_is_said() -> None:
    conn = Nftables("edge", NftablesOptions(nft="nft-not-installed-here"))
    with pytest.raises(ConnectorError, match="not installed"):
        conn.check(_block())


LIVE = """
import json, subprocess, sys
from garrison.respond.connectors.base import ConnectorError, Delivery
from garrison.respond.connectors.nftables import Nftables, NftablesOptions
conn = Nftables("edge", NftablesOptions())
def listed():
    out = subprocess.run(["nft", "-j", "list", "set", "inet", "garrison", "blocklist"],
                         capture_output=True, text=True, check=True).stdout
    items = json.loads(out)["nftables"][1]["set"].get("elem", [])
    return [e["elem"]["val"] if isinstance(e, dict) else e for e in items]
d = Delivery("block.ip", {"ip": "192.0.2.7", "duration": "1h"}, "k")
steps = {"before": subprocess.run(["nft", "list", "ruleset"], capture_output=True,
                                  text=True).stdout}
conn.send(d); conn.send(d)
steps["blocked"] = listed()
rules = subprocess.run(["nft", "list", "chain", "inet", "garrison", "input"],
                       capture_output=True, text=True, check=True).stdout
steps["input_rules"] = rules.count("drop")
undo = Delivery("block.ip", {"ip": "192.0.2.7"}, "k", undo=True)
conn.send(undo); conn.send(undo)
steps["after_undo"] = listed()
subprocess.run(["nft", "-f", "-"], check=True, text=True,
               input="table inet other { set blocklist { type ether_addr; }; }\\n")
clash = Nftables("clash", NftablesOptions(table="other"))
try:
    clash.check(d)
    steps["clash"] = "accepted"
except ConnectorError as exc:
    steps["clash"] = exc.reason
print(json.dumps(steps))
"""


def test_send_blocks_and_lifts_inside_a_network_namespace() -> None:
    if (why := _nft_usable()) is not None:
        pytest.skip(why)
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("live nft needs root and unshare for a throwaway network namespace")
    host_before = subprocess.run([NFT, "list", "ruleset"], capture_output=True, text=True).stdout
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([unshare, "--net", sys.executable, "-c", LIVE], capture_output=True,
                          text=True, env=env, timeout=60, check=False)  # fmt: skip
    if done.returncode != 0 and "unshare failed" in done.stderr:
        pytest.skip(f"cannot create a network namespace here: {done.stderr.strip()[:80]}")
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)
    assert steps["before"].strip() == ""  # a fresh namespace: nothing of the host's
    assert steps["blocked"] == ["192.0.2.7"]
    assert steps["input_rules"] == 2  # one per set, not stacked by the second send
    assert steps["after_undo"] == []
    # a set of that name but another type already there: nft -c refuses, nothing changes
    assert steps["clash"].startswith("nftables clash: nft refused the rules")
    host_after = subprocess.run([NFT, "list", "ruleset"], capture_output=True, text=True).stdout
    assert host_after == host_before and "garrison" not in host_after
