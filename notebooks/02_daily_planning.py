# Databricks notebook source
# MAGIC %md
# MAGIC # Daily planning
# MAGIC
# MAGIC The morning briefing over the pmtui Delta mirror: what is overdue, today's priorities, project
# MAGIC progress, and how work moved over the last days. The sections are the same ones `pmtui briefing`
# MAGIC prints (`pmtui.core.briefing.build_briefing`), computed over the mirrored tables.
# MAGIC
# MAGIC **Parameters** (widgets on Databricks; `PMTUI_NB_<NAME>` environment variables elsewhere):
# MAGIC `mirror_target` (Delta folder or URI), `catalog_schema` (e.g. `main.pmtui` to read the Unity Catalog
# MAGIC tables instead), `today` (YYYY-MM-DD, default today), `timezone` (IANA name), `days` (history window),
# MAGIC `output_dir` (write every table and plot there).

# COMMAND ----------

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def widget(name, default=""):
    """A notebook parameter: a Databricks widget when dbutils exists, else PMTUI_NB_<NAME>, else default."""
    try:
        dbutils.widgets.text(name, default)  # noqa: F821
        return dbutils.widgets.get(name)  # noqa: F821
    except NameError:
        return os.environ.get(f"PMTUI_NB_{name.upper()}", default)


MIRROR_TARGET = widget("mirror_target", os.environ.get("PMTUI_MIRROR__TARGET", ""))
CATALOG_SCHEMA = widget("catalog_schema", "")
TODAY = widget("today", "")
TIMEZONE = widget("timezone", os.environ.get("PMTUI_TIMEZONE", "UTC"))
DAYS = int(widget("days", "14"))
OUTPUT_DIR = widget("output_dir", "")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Load the mirror
# MAGIC With a Spark session the tables are read by Spark (`format("delta")` or the catalog); without one, by
# MAGIC deltalake. Either way the analysis below runs on Arrow tables with DuckDB, in `pmtui.core.analytics`.

# COMMAND ----------

from pmtui.core import analytics  # noqa: E402

spark_session = globals().get("spark")
out = analytics.NotebookOutput(OUTPUT_DIR, display=globals().get("display"))
tables = analytics.load_tables(
    ["tasks", "projects", "external_refs", "sync_runs", "decisions", "conflicts", "comments"],
    target=MIRROR_TARGET,
    spark=spark_session,
    catalog_schema=CATALOG_SCHEMA,
)
tz = ZoneInfo(TIMEZONE)
now = datetime.now(UTC)
today = date.fromisoformat(TODAY) if TODAY else now.astimezone(tz).date()
if TODAY:
    now = max(now, datetime.combine(today, datetime.min.time(), tzinfo=tz))
print(f"{tables['tasks'].num_rows} tasks, {tables['projects'].num_rows} projects; briefing for {today} ({TIMEZONE})")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Morning briefing

# COMMAND ----------

briefing = analytics.briefing_from_tables(tables, today=today, now=now, tz=tz)
counts = briefing.counts
out.table(
    "briefing_counts",
    [
        {
            "open": counts.open,
            "overdue": counts.overdue,
            "due_today": counts.due_today,
            "upcoming": counts.upcoming,
            "completed": counts.completed,
            "conflicts": counts.conflicts,
        }
    ],
)
sections = analytics.briefing_tables(briefing)
out.table("briefing_priorities", sections["priorities"])
out.table("briefing_due_today", sections["due_today"])

# COMMAND ----------

# MAGIC %md
# MAGIC ## Overdue and today's priorities

# COMMAND ----------

out.table("overdue", analytics.overdue_tasks(tables["tasks"], now=now))
out.table("todays_priorities", analytics.todays_priorities(tables["tasks"], now=now, tz=tz))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Progress and analytics

# COMMAND ----------

progress = out.table("project_progress", analytics.project_progress(tables["tasks"], tables["projects"]))
out.plot("project_progress_chart", progress, x="project", y=["done", "total"])

statuses = out.table("status_counts", analytics.status_counts(tables["tasks"]))
out.plot("status_chart", statuses, x="status", y="tasks")

completed = out.table("completed_per_day", analytics.completed_per_day(tables["tasks"], today=today, days=DAYS))
out.plot("completed_chart", completed, x="day", y="completed", kind="line")

per_service = out.table("tasks_per_service", analytics.tasks_per_service(tables["tasks"], tables["external_refs"]))
out.plot("service_chart", per_service, x="service", y=["open", "total"])
