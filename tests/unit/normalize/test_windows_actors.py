"""Who acted, read off Windows events that name it: share access (Network File Activity) and
the Base Events of service / task creation and the like (``actor.user``, OCSF host profile)."""

from __future__ import annotations

from typing import Any

from garrison.core.entities import entities_of
from garrison.normalize.windows import normalize_windows_dict


def _flat(event_id: int, channel: str, provider: str, **data: Any) -> dict[str, Any]:
    return {
        "EventID": event_id,
        "Channel": channel,
        "SourceName": provider,
        "Hostname": "FS01.corp.example",
        "TimeCreated": "2024-03-01T10:00:00Z",
        **data,
    }


def _security(event_id: int, **data: Any) -> dict[str, Any]:
    return _flat(event_id, "Security", "Microsoft-Windows-Security-Auditing", **data)


def test_share_access_is_network_file_activity_with_who_and_where() -> None:
    norm = normalize_windows_dict(
        _security(
            5145,
            SubjectUserName="adm-zchen",
            SubjectDomainName="CORP",
            SubjectUserSid="S-1-5-21-1-2-3-1200",
            IpAddress="::ffff:10.10.1.57",
            IpPort=50122,
            ShareName="\\\\*\\ADMIN$",
            RelativeTargetName="PSEXESVC.exe",
        )
    )
    assert norm.class_uid == 4010 and norm.ocsf["class_name"] == "Network File Activity"
    assert norm.ocsf["category_name"] == "Network Activity"
    assert norm.ocsf["actor"]["user"] == {
        "name": "adm-zchen",
        "domain": "CORP",
        "uid": "S-1-5-21-1-2-3-1200",
    }
    assert norm.ocsf["src_endpoint"] == {"ip": "10.10.1.57", "port": 50122}
    assert norm.ocsf["file"] == {"name": "PSEXESVC.exe", "path": "PSEXESVC.exe"}
    assert norm.ocsf["share"] == "\\\\*\\ADMIN$"
    keys = {e.key() for e in entities_of(norm.ocsf)}
    assert {"user:adm-zchen", "ip:10.10.1.57", "host:fs01"} <= keys
    assert norm.fields["RelativeTargetName"] == "PSEXESVC.exe"  # rules still see every field


def test_task_creation_names_its_subject() -> None:
    norm = normalize_windows_dict(
        _security(4698, SubjectUserName="adm-zchen", SubjectDomainName="CORP", TaskName="\\upd")
    )
    assert norm.class_uid == 0
    assert norm.ocsf["actor"] == {"user": {"name": "adm-zchen", "domain": "CORP"}}
    assert "user:adm-zchen" in {e.key() for e in entities_of(norm.ocsf)}


def test_service_install_takes_the_system_user_id_but_not_a_service_account() -> None:
    scm = "Service Control Manager"
    by_user = normalize_windows_dict(
        _flat(7045, "System", scm, ServiceName="x", Security_UserID="S-1-5-21-1-2-3-1200")
    )
    assert by_user.ocsf["actor"] == {"user": {"uid": "S-1-5-21-1-2-3-1200"}}
    by_system = normalize_windows_dict(
        _flat(7045, "System", scm, ServiceName="x", Security_UserID="S-1-5-18")
    )
    assert "actor" not in by_system.ocsf


def test_placeholders_name_nobody() -> None:
    norm = normalize_windows_dict(
        _security(4698, SubjectUserName="-", SubjectDomainName="-", SubjectUserSid="S-1-0-0")
    )
    assert "actor" not in norm.ocsf
