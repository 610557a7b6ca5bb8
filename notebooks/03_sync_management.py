# Databricks notebook source
# MAGIC %md
# MAGIC # Sync management
# MAGIC
# MAGIC Sync status and history, errors (including mirror failures), open conflicts and the health of each
# MAGIC integration, from the pmtui Delta mirror. Resolve conflicts in pmtui itself (`pmtui`, press 4):
# MAGIC this notebook only reads.
# MAGIC
# MAGIC **Parameters** (widgets on Databricks; `PMTUI_NB_<NAME>` environment variables elsewhere):
# MAGIC `mirror_target`, `catalog_schema`, `days` (history window), `stale_hours` (a service whose last
# MAGIC success is older is "stale"), `output_dir`.

# COMMAND ----------

import os
from datetime import UTC, datetime


def widget(name, default=""):
    """A notebook parameter: a Databricks widget when dbutils exists, else PMTUI_NB_<NAME>, else default."""
    try:
        dbutils.widgets.text(name, default)  # noqa: F821
        return dbutils.widgets.get(name)  # noqa: F821
    except NameError:
        return os.environ.get(f"PMTUI_NB_{name.upper()}", default)


MIRROR_TARGET = widget("mirror_target", os.environ.get("PMTUI_MIRROR__TARGET", ""))
CATALOG_SCHEMA = widget("catalog_schema", "")
DAYS = int(widget("days", "14"))
STALE_HOURS = int(widget("stale_hours", "24"))
OUTPUT_DIR = widget("output_dir", "")

# COMMAND ----------

from pmtui.core import analytics  # noqa: E402

out = analytics.NotebookOutput(OUTPUT_DIR, display=globals().get("display"))
tables = analytics.load_tables(
    ["tasks", "sync_runs", "decisions", "conflicts"],
    target=MIRROR_TARGET,
    spark=globals().get("spark"),
    catalog_schema=CATALOG_SCHEMA,
)
now = datetime.now(UTC)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Integration health
# MAGIC `failing`: the last run failed. `stale`: no successful run within `stale_hours`.

# COMMAND ----------

health = out.table(
    "integration_health",
    analytics.integration_health(tables["sync_runs"], tables["conflicts"], now=now, stale_hours=STALE_HOURS),
)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Sync history

# COMMAND ----------

history = out.table("sync_history", analytics.sync_history(tables["sync_runs"], now=now, days=DAYS))
per_service = analytics.query(
    "SELECT service, sum(runs) AS runs, sum(failed) AS failed, sum(pulled) AS pulled, sum(pushed) AS pushed "
    "FROM history GROUP BY service ORDER BY service",
    history=history,
)
out.plot("sync_runs_chart", per_service, x="service", y=["runs", "failed"])
out.plot("sync_volume_chart", per_service, x="service", y=["pulled", "pushed"])

# COMMAND ----------

# MAGIC %md
# MAGIC ## Errors and open conflicts

# COMMAND ----------

out.table("sync_errors", analytics.sync_errors(tables["sync_runs"], tables["decisions"]))
out.table("open_conflicts", analytics.open_conflicts(tables["conflicts"], tables["tasks"]))
out.table("sync_decisions", analytics.decision_log(tables["decisions"], kind="sync"))
