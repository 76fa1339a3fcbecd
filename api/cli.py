"""`levqor`: the founder's command line. `levqor status` prints a one-screen health overview from the API
(the heartbeat, and with the founder token the guardian summary: the platform's own telemetry and anomalies,
and apart from them the tenants whose runs fail on their own targets); overall it says the worse of the
heartbeat's status and the summary's `platform_status` (degraded by a critical platform anomaly), and exits 0
when that is ok, 1 when not, 2 when the API cannot be reached. `levqor backup list|create|restore` works on the application database
directly (api/backup_command.py)."""

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import httpx

from api.backup_command import add_backup_parser, run_backup
from core.settings import CliSettings

TIMEOUT_S = 10.0
STATUS_ORDER = ["ok", "degraded", "down"]
# Tenants shown on the one screen; the guardian summary has them all.
TENANT_ROWS = 3


def main(argv: list[str] | None = None) -> int:
    settings = CliSettings()
    parser = argparse.ArgumentParser(prog="levqor", description="Levqor platform command line")
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="one-screen health overview")
    status.add_argument(
        "--url", default=settings.api_url, help="the API's base URL (LEVQOR_API_URL, else API_HOST and API_PORT)"
    )
    status.add_argument("--token", default=None, help="the founder token (LEVQOR_FOUNDER_TOKEN)")
    add_backup_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "backup":
        code = run_backup(args)
    else:
        token = args.token or (
            settings.levqor_founder_token.get_secret_value() if settings.levqor_founder_token else None
        )
        code = show_status(args.url.rstrip("/"), token)
    if argv is None:
        sys.exit(code)
    return code


def show_status(url: str, token: str | None) -> int:
    try:
        with httpx.Client(base_url=url, timeout=TIMEOUT_S) as api:
            heartbeat = api.get("/api/system/heartbeat").raise_for_status().json()
            summary = _summary(api, token)
    except httpx.HTTPError as err:
        sys.stderr.write(f"levqor: cannot read {url}: {type(err).__name__}: {err}\n")
        return 2
    sys.stdout.write(render(url, heartbeat, summary))
    return 0 if overall(heartbeat, summary) == "ok" else 1


def overall(heartbeat: dict[str, Any], summary: dict[str, Any] | str) -> str:
    """The worse of the heartbeat's status and the guardian's platform status (when the summary was read)."""
    statuses = [heartbeat["status"]]
    if isinstance(summary, dict) and summary.get("platform_status"):
        statuses.append(summary["platform_status"])
    return max(statuses, key=STATUS_ORDER.index)


def _summary(api: httpx.Client, token: str | None) -> dict[str, Any] | str:
    if not token:
        return "no founder token: set LEVQOR_FOUNDER_TOKEN or pass --token"
    answer = api.get("/api/guardian/summary", headers={"Authorization": f"Bearer {token}"})
    if answer.status_code != 200:
        return f"guardian summary refused: {answer.status_code} {answer.json().get('code', '')}"
    return answer.json()


def render(url: str, heartbeat: dict[str, Any], summary: dict[str, Any] | str) -> str:
    """The overview as a fixed-width table."""
    rows: list[tuple[str, str, str]] = [
        ("overall", overall(heartbeat, summary), ""),
        ("database", _ok(heartbeat["db_ok"]), "live"),
        ("temporal", _ok(heartbeat["temporal_ok"]), _workers(heartbeat.get("worker_count"))),
        ("stripe", heartbeat["stripe"], ""),
        ("ai", heartbeat["brain"], ""),
        (
            "last heartbeat",
            "stale" if heartbeat["heartbeat_stale"] else "fresh" if heartbeat["last_heartbeat_at"] else "none yet",
            _ago(heartbeat["last_heartbeat_at"]),
        ),
        ("recent errors", _text(heartbeat["error_count_recent"]), "last 15 min"),
        _backup_row(heartbeat.get("backup") or {}),
        _archive_row(heartbeat.get("run_archive") or {}),
    ]
    if isinstance(summary, dict):
        telemetry = summary["telemetry"]
        p95 = telemetry["latency"]["p95_ms"]
        rows += [
            (
                "telemetry (1h)",
                f"{telemetry['total']} events",
                f"{telemetry['error_rate']:.1%} errors" + (f", p95 {p95:.0f} ms" if p95 is not None else ""),
            ),
            ("anomalies", str(len(summary["anomalies"])), _first_anomaly(summary["anomalies"])),
            ("open failures", str(summary["open_failures"]), ""),
            (
                "daily report",
                f"{summary['report_score']}/100" if summary["report_score"] is not None else "none yet",
                summary["report_day"] or "",
            ),
            *_tenant_rows(summary.get("tenant_failures") or []),
        ]
    width = max(len(name) for name, _, _ in rows) + 2
    lines = [
        f"Levqor status  {url}  (version {heartbeat['version']}, up {_duration(heartbeat['uptime_seconds'])})",
        "",
        f"{'CHECK':<{width}}{'STATUS':<16}DETAIL",
        f"{'-' * (width - 2):<{width}}{'-' * 14:<16}{'-' * 30}",
    ]
    lines += [f"{name:<{width}}{status:<16}{detail}".rstrip() for name, status, detail in rows]
    if isinstance(summary, str):
        lines += ["", summary]
    return "\n".join(lines) + "\n"


def _tenant_rows(tenants: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The tenants whose own targets failed their runs, worst first: not the platform's health."""
    if not tenants:
        return [("tenants failed", "none", "")]
    rows = [("tenants failed", str(len(tenants)), "on their own targets, not the platform")]
    for tenant in tenants[:TENANT_ROWS]:
        detail = (
            f"{tenant['failed_attempts']} of {tenant['attempts']} step attempts, {tenant['failed_runs']} runs failed"
        )
        rows.append((f"  {tenant['tenant_id'][:12]}", f"{tenant['failure_rate']:.1%}", detail))
    return rows


def _backup_row(backup: dict[str, Any]) -> tuple[str, str, str]:
    status = backup.get("status", "unknown")
    at = backup.get("last_backup_at")
    detail = backup.get("detail") or (
        f"{'verified' if backup.get('verified') else 'not verified'}, {_ago(at)}" if at else ""
    )
    return ("last backup", status, detail[:60])


def _archive_row(archive: dict[str, Any]) -> tuple[str, str, str]:
    lag = archive.get("lag_seconds")
    return ("run archive", archive.get("status", "unknown"), "" if lag is None else f"{_duration(lag)} behind")


def _ok(flag: bool) -> str:
    return "ok" if flag else "failed"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _workers(count: int | None) -> str:
    return "" if count is None else f"{count} worker{'s' if count != 1 else ''} polling"


def _first_anomaly(anomalies: list[dict[str, Any]]) -> str:
    if not anomalies:
        return ""
    first = anomalies[0]
    return f"{first['rule']}: {first['subject'][:40]} ({first['source']})"


def _ago(at: str | None) -> str:
    if not at:
        return ""
    return _duration((datetime.now(UTC) - datetime.fromisoformat(at)).total_seconds()) + " ago"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


if __name__ == "__main__":
    main()
