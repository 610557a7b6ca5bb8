"""Analytics over the mirrored tables, for the Databricks notebooks: pure functions of Arrow tables.

Each function takes the tables it needs as ``pyarrow.Table`` (read from the Delta mirror with deltalake, or
from Spark with ``toArrow()``) and returns a ``pyarrow.Table``, computed by DuckDB in a private in-memory
connection. Plot data are tables too (one row per bar or point), so a notebook plots them with matplotlib
where it is installed and shows them as tables where it is not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from pmtui.core.briefing import Briefing

OPEN_SQL = "NOT coalesce(deleted, FALSE) AND status NOT IN ('done', 'canceled')"
PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
)


def query(sql: str, **tables: pa.Table) -> pa.Table:
    """Run ``sql`` over the given Arrow tables (registered under their keyword names) in UTC."""
    import duckdb

    conn = duckdb.connect()
    try:
        conn.execute("SET TimeZone = 'UTC'").fetchall()
        for name, table in tables.items():
            conn.register(name, table)
        return conn.sql(sql).to_arrow_table()
    finally:
        conn.close()


def _at(value: datetime) -> str:
    return f"TIMESTAMPTZ '{value.astimezone(UTC).isoformat()}'"


# --------------------------------------------------------------------------------------------- tasks


def overdue_tasks(tasks: pa.Table, *, now: datetime, limit: int = 50) -> pa.Table:
    """Open tasks whose due instant has passed, oldest debt first, with whole days overdue."""
    return query(
        f"""SELECT id, title, status, priority, due,
                   date_diff('day', due, {_at(now)}) AS days_overdue
            FROM tasks WHERE {OPEN_SQL} AND due IS NOT NULL AND due < {_at(now)}
            ORDER BY due, {PRIORITY_RANK_SQL}, title LIMIT {int(limit)}""",
        tasks=tasks,
    )


def todays_priorities(tasks: pa.Table, *, now: datetime, tz: tzinfo = UTC, limit: int = 10) -> pa.Table:
    """Open tasks due by the end of today (in ``tz``) or marked urgent/high, most pressing first."""
    local = now.astimezone(tz)
    end_of_day = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return query(
        f"""SELECT id, title, status, priority, due,
                   CASE WHEN due < {_at(now)} THEN 'overdue'
                        WHEN due < {_at(end_of_day)} THEN 'due today'
                        ELSE priority || ' priority' END AS why
            FROM tasks
            WHERE {OPEN_SQL} AND (due < {_at(end_of_day)} OR priority IN ('urgent', 'high'))
            ORDER BY (due < {_at(end_of_day)}) DESC NULLS LAST, {PRIORITY_RANK_SQL}, due NULLS LAST, title
            LIMIT {int(limit)}""",
        tasks=tasks,
    )


def status_counts(tasks: pa.Table) -> pa.Table:
    """Plot data: live tasks per status."""
    return query(
        "SELECT status, count(*) AS tasks FROM tasks WHERE NOT coalesce(deleted, FALSE) "
        "GROUP BY status ORDER BY tasks DESC, status",
        tasks=tasks,
    )


def completed_per_day(tasks: pa.Table, *, today: date, days: int = 14) -> pa.Table:
    """Plot data: tasks completed on each of the last ``days`` days (UTC dates), zeros included."""
    first = today - timedelta(days=days - 1)
    return query(
        f"""WITH span AS (
                SELECT CAST(d AS DATE) AS day
                FROM generate_series(DATE '{first}', DATE '{today}', INTERVAL 1 DAY) g(d))
            SELECT span.day, count(t.id) AS completed
            FROM span LEFT JOIN tasks t
              ON CAST(t.completed_at AS DATE) = span.day AND NOT coalesce(t.deleted, FALSE)
            GROUP BY span.day ORDER BY span.day""",
        tasks=tasks,
    )


def project_progress(tasks: pa.Table, projects: pa.Table) -> pa.Table:
    """Plot data: done and total tasks per live project, with the share done."""
    return query(
        """SELECT p.name AS project, p.status,
                  count(t.id) FILTER (WHERE t.status = 'done') AS done,
                  count(t.id) FILTER (WHERE t.status <> 'canceled') AS total,
                  round(100.0 * count(t.id) FILTER (WHERE t.status = 'done')
                        / nullif(count(t.id) FILTER (WHERE t.status <> 'canceled'), 0), 1) AS pct_done
           FROM projects p
           LEFT JOIN tasks t ON t.project_id = p.id AND NOT coalesce(t.deleted, FALSE)
           WHERE NOT coalesce(p.deleted, FALSE)
           GROUP BY p.name, p.status ORDER BY total DESC, p.name""",
        tasks=tasks,
        projects=projects,
    )


def tasks_per_service(tasks: pa.Table, external_refs: pa.Table) -> pa.Table:
    """Plot data: open and total tasks held by each service (a task linked twice counts for both)."""
    return query(
        f"""SELECT r.service, count(DISTINCT t.id) FILTER (WHERE {
            OPEN_SQL.replace("deleted", "t.deleted").replace("status", "t.status")
        }) AS open,
                  count(DISTINCT t.id) AS total
           FROM external_refs r JOIN tasks t ON r.entity = 'task' AND r.entity_id = t.id
           WHERE NOT coalesce(t.deleted, FALSE)
           GROUP BY r.service ORDER BY r.service""",
        tasks=tasks,
        external_refs=external_refs,
    )


# ---------------------------------------------------------------------------------------------- sync


def sync_history(sync_runs: pa.Table, *, now: datetime, days: int = 14) -> pa.Table:
    """Plot data: per day and service, runs, failures, items pulled and pushed, mean duration."""
    since = now - timedelta(days=days)
    return query(
        f"""SELECT CAST(started_at AS DATE) AS day, service, count(*) AS runs,
                   count(*) FILTER (WHERE status = 'failed') AS failed,
                   sum(pulled) AS pulled, sum(pushed) AS pushed,
                   CAST(round(avg(duration_ms)) AS BIGINT) AS mean_ms
            FROM sync_runs WHERE started_at >= {_at(since)}
            GROUP BY ALL ORDER BY day, service""",
        sync_runs=sync_runs,
    )


def sync_errors(sync_runs: pa.Table, decisions: pa.Table | None = None, *, limit: int = 20) -> pa.Table:
    """The newest failed sync runs, and mirror failures when the decision log is given."""
    mirror = (
        """UNION ALL SELECT "at" AS started_at, 'mirror' AS service, 'failed' AS status, reason AS error
           FROM decisions WHERE kind = 'sync' AND reason LIKE 'mirror failed:%'"""
        if decisions is not None
        else ""
    )
    return query(
        f"""SELECT * FROM (
                SELECT started_at, service, status, error FROM sync_runs WHERE status <> 'ok' {mirror})
            ORDER BY started_at DESC LIMIT {int(limit)}""",
        sync_runs=sync_runs,
        **({"decisions": decisions} if decisions is not None else {}),
    )


def open_conflicts(conflicts: pa.Table, tasks: pa.Table) -> pa.Table:
    """Unresolved conflicts with their task's title, oldest first."""
    return query(
        """SELECT c.id, coalesce(t.title, c.task_id) AS task, c.service, c.field,
                  c.base, c.local, c.remote, c.created_at
           FROM conflicts c LEFT JOIN tasks t ON t.id = c.task_id
           WHERE c.resolved_at IS NULL ORDER BY c.created_at""",
        conflicts=conflicts,
        tasks=tasks,
    )


def integration_health(
    sync_runs: pa.Table, conflicts: pa.Table, *, now: datetime, stale_hours: int = 24
) -> pa.Table:
    """One row per service that ever synced: last run, last success, failures in 24 h, open conflicts, health.

    Health is ``failing`` when the last run failed, ``stale`` when the last success is older than
    ``stale_hours``, else ``ok``.
    """
    return query(
        f"""WITH last AS (
                SELECT service, max(started_at) AS last_run,
                       max(started_at) FILTER (WHERE status = 'ok') AS last_ok,
                       arg_max(status, started_at) AS last_status,
                       arg_max(error, started_at) AS last_error,
                       count(*) FILTER (WHERE status = 'failed'
                                         AND started_at >= {_at(now - timedelta(hours=24))}) AS failed_24h
                FROM sync_runs GROUP BY service),
            open AS (SELECT service, count(*) AS open_conflicts FROM conflicts
                     WHERE resolved_at IS NULL GROUP BY service)
            SELECT last.service, last_run, last_ok, last_status, failed_24h,
                   coalesce(open.open_conflicts, 0) AS open_conflicts,
                   CASE WHEN last_status = 'failed' THEN 'failing'
                        WHEN last_ok IS NULL OR last_ok < {_at(now - timedelta(hours=stale_hours))}
                             THEN 'stale'
                        ELSE 'ok' END AS health,
                   last_error
            FROM last LEFT JOIN open USING (service) ORDER BY last.service""",
        sync_runs=sync_runs,
        conflicts=conflicts,
    )


def decision_log(decisions: pa.Table, *, kind: str | None = None, limit: int = 50) -> pa.Table:
    """The newest decisions (optionally of one kind): when, what kind, where, why."""
    where = f"WHERE kind = '{kind.replace(chr(39), '')}'" if kind else ""
    return query(
        f"""SELECT "at", kind, service, task_id, reason, request_id FROM decisions {where}
            ORDER BY "at" DESC LIMIT {int(limit)}""",
        decisions=decisions,
    )


def decision_kinds(decisions: pa.Table) -> pa.Table:
    """Plot data: decisions per kind."""
    return query(
        "SELECT kind, count(*) AS decisions FROM decisions GROUP BY kind ORDER BY decisions DESC, kind",
        decisions=decisions,
    )


# ----------------------------------------------------------------------------------------- briefing


def briefing_from_tables(
    tables: dict[str, pa.Table], *, today: date, now: datetime, tz: tzinfo = UTC
) -> Briefing:
    """The morning briefing (:func:`pmtui.core.briefing.build_briefing`) over mirrored tables.

    The tables are loaded into an in-memory cache with pmtui's own schema, so the briefing is the same
    one `pmtui briefing` prints.
    """
    from pmtui.core.briefing import build_briefing
    from pmtui.core.store import Store

    store = Store(":memory:")
    try:
        with store._lock:
            for name, table in tables.items():
                present = {
                    row[0]
                    for row in store._rows(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [name]
                    )
                }
                if not present:
                    continue
                columns = [c for c in table.column_names if c in present]
                quoted = ", ".join(f'"{c}"' for c in columns)
                store.conn.register("incoming_rows", table.select(columns))
                try:
                    store._exec(f"INSERT INTO {name} ({quoted}) SELECT {quoted} FROM incoming_rows")
                finally:
                    store.conn.unregister("incoming_rows")
        return build_briefing(store, today=today, now=now, tz=tz)
    finally:
        store.close()


def briefing_tables(briefing: Briefing) -> dict[str, list[dict[str, Any]]]:
    """The briefing's sections as lists of plain rows, for display in a notebook."""

    def rows(items: Any) -> list[dict[str, Any]]:
        return [
            {
                "title": i.title,
                "key": i.ref.key if i.ref else None,
                "project": i.project,
                "status": i.status,
                "priority": i.priority,
                "due": i.due_day,
                **({"overdue": i.overdue_text} if hasattr(i, "overdue_text") else {}),
                **({"score": i.score} if hasattr(i, "score") else {}),
            }
            for i in items
        ]

    return {
        "overdue": rows(briefing.overdue.items),
        "priorities": rows(briefing.priorities.items),
        "due_today": rows(briefing.due_today.items),
        "upcoming": rows(briefing.upcoming.items),
        "completed": rows(briefing.completed.items),
    }


# ------------------------------------------------------------------------------------------- charts


def text_bars(table: pa.Table, label: str, value: str, *, width: int = 40) -> str:
    """A bar chart as text, for where matplotlib is not installed."""
    labels = [str(v) for v in table.column(label).to_pylist()]
    values = [float(v or 0) for v in table.column(value).to_pylist()]
    top = max(values, default=0) or 1
    pad = max((len(t) for t in labels), default=0)
    return "\n".join(
        f"{name:<{pad}} | {'#' * round(width * amount / top)} {amount:g}"
        for name, amount in zip(labels, values, strict=True)
    )


# ---------------------------------------------------------------------------------------- notebooks


def load_tables(
    names: list[str] | tuple[str, ...],
    *,
    target: str = "",
    spark: Any = None,
    catalog_schema: str = "",
    storage_options: dict[str, str] | None = None,
) -> dict[str, pa.Table]:
    """Mirrored tables as Arrow: through Spark when a session is given, else deltalake (local reader).

    With Spark, ``catalog_schema`` (``main.pmtui``) reads the Unity Catalog tables; otherwise the Delta
    folders under ``target`` (default: the mirror in pmtui's data folder).
    """
    from pmtui.core.mirror import HASH_COLUMN, default_target, read_table

    target = target or default_target()
    tables: dict[str, pa.Table] = {}
    for name in names:
        if spark is not None:
            import pyarrow as pa

            spark.conf.set("spark.sql.session.timeZone", "UTC")
            frame = (
                spark.table(f"{catalog_schema}.{name}")
                if catalog_schema
                else (spark.read.format("delta").load(f"{target.rstrip('/')}/{name}"))
            )
            if HASH_COLUMN in frame.columns:
                frame = frame.drop(HASH_COLUMN)
            tables[name] = (
                frame.toArrow()
                if hasattr(frame, "toArrow")
                else pa.Table.from_pandas(frame.toPandas(), preserve_index=False)
            )
        else:
            tables[name] = read_table(target, name, storage_options=storage_options)
    return tables


class NotebookOutput:
    """Shows tables and plots in a notebook: ``display`` and matplotlib on Databricks, text elsewhere.

    With ``output_dir`` every table is also written as JSON lines and every plot as PNG (matplotlib) or
    text, so a local run leaves its results on disk.
    """

    def __init__(self, output_dir: str = "", *, display: Any = None, echo: Any = None) -> None:
        from pathlib import Path

        self.output_dir = Path(output_dir) if output_dir else None
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        self.display = display
        self.echo = echo or _echo
        self.shown: list[str] = []
        self.plotted: list[str] = []

    def table(self, name: str, table: pa.Table | list[dict[str, Any]], *, rows: int = 20) -> pa.Table:
        """Show one table under a heading (and write it when there is an output folder)."""
        import pyarrow as pa

        data = pa.Table.from_pylist(table) if isinstance(table, list) else table
        self.shown.append(name)
        if self.output_dir is not None:
            import json

            with open(self.output_dir / f"{name}.json", "w", encoding="utf-8") as handle:
                for row in data.to_pylist():
                    handle.write(json.dumps(row, default=str) + "\n")
        if self.display is not None and data.num_columns:
            self.display(data.to_pandas())
            return data
        self.echo(f"\n== {name} ({data.num_rows} rows)")
        if not data.num_columns:
            self.echo("(empty)")
            return data
        head = data.slice(0, rows).to_pylist()
        widths = {c: min(40, max([len(c)] + [len(str(r[c])) for r in head])) for c in data.column_names}
        self.echo("  ".join(c.ljust(widths[c]) for c in data.column_names))
        for row in head:
            self.echo("  ".join(str(row[c])[: widths[c]].ljust(widths[c]) for c in data.column_names))
        if data.num_rows > rows:
            self.echo(f"... {data.num_rows - rows} more")
        return data

    def plot(self, name: str, table: pa.Table, *, x: str, y: str | list[str], kind: str = "bar") -> None:
        """Plot ``y`` against ``x``: a matplotlib figure when matplotlib is installed, else text bars."""
        self.plotted.append(name)
        columns = [y] if isinstance(y, str) else list(y)
        try:
            import matplotlib

            if self.display is None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            text = "\n\n".join(f"{c}:\n{text_bars(table, x, c)}" for c in columns)
            self.echo(f"\n== {name} (plot as text: matplotlib is not installed)\n{text}")
            if self.output_dir is not None:
                (self.output_dir / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
            return
        labels = [str(v) for v in table.column(x).to_pylist()]
        figure, axis = plt.subplots(figsize=(8, 3))
        for column in columns:
            values = [v or 0 for v in table.column(column).to_pylist()]
            if kind == "line":
                axis.plot(labels, values, marker="o", label=column)
            else:
                axis.bar(labels, values, label=column)
        axis.set_title(name.replace("_", " "))
        axis.tick_params(axis="x", labelrotation=45)
        if len(columns) > 1:
            axis.legend()
        figure.tight_layout()
        if self.output_dir is not None:
            figure.savefig(self.output_dir / f"{name}.png")
        if self.display is not None:
            plt.show()
        plt.close(figure)


def _echo(text: str) -> None:
    import sys

    sys.stdout.write(text + "\n")
