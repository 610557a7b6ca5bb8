# Databricks notebook source
# MAGIC %md
# MAGIC # Agent interface
# MAGIC
# MAGIC Drive pmtui's agent from a notebook: plan project and task workflows from plain requests, see where
# MAGIC each action would go and why, plan bulk operations, watch how errors are reported, and check each
# MAGIC integration. Where pmtui is installed this goes through `pmtui.core` (the same orchestrator as
# MAGIC `pmtui do`); where it is not, the notebook shows read-only views of the decision log from the mirror.
# MAGIC
# MAGIC **Parameters** (widgets on Databricks; `PMTUI_NB_<NAME>` environment variables elsewhere):
# MAGIC `mirror_target`, `catalog_schema`, `requests` (requests separated by `;`), `execute` (`true` runs the
# MAGIC plans against the configured services; default `false` only plans), `output_dir`.

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
REQUESTS = widget(
    "requests",
    "project Q1 launch with tasks: spec, API, docs due fri; task Fix login bug due tomorrow #bug; "
    "task Write onboarding guide #docs",
)
EXECUTE = widget("execute", "false").strip().lower() == "true"
OUTPUT_DIR = widget("output_dir", "")

try:
    from pmtui.core import analytics

    HAVE_PMTUI = True
except ImportError:
    HAVE_PMTUI = False
spark_session = globals().get("spark")
print(f"pmtui installed: {HAVE_PMTUI}; Spark: {spark_session is not None}; execute plans: {EXECUTE}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Read-only views (always available)
# MAGIC The decision log explains every routing choice, retry, compensation and sync outcome.

# COMMAND ----------

if HAVE_PMTUI:
    out = analytics.NotebookOutput(OUTPUT_DIR, display=globals().get("display"))
    tables = analytics.load_tables(
        ["tasks", "decisions", "sync_runs", "conflicts"],
        target=MIRROR_TARGET,
        spark=spark_session,
        catalog_schema=CATALOG_SCHEMA,
    )
    out.table("decision_log", analytics.decision_log(tables["decisions"]))
    kinds = out.table("decision_kinds", analytics.decision_kinds(tables["decisions"]))
    out.plot("decision_kinds_chart", kinds, x="kind", y="decisions")
    out.table(
        "integration_status",
        analytics.integration_health(tables["sync_runs"], tables["conflicts"], now=datetime.now(UTC)),
    )
elif spark_session is not None:
    source = (
        spark_session.table(f"{CATALOG_SCHEMA}.decisions")
        if CATALOG_SCHEMA
        else spark_session.read.format("delta").load(f"{MIRROR_TARGET.rstrip('/')}/decisions")
    )
    view = source.select("at", "kind", "service", "task_id", "reason").orderBy(source["at"].desc()).limit(50)
    (globals().get("display") or print)(view if "display" in globals() else view.collect())
else:
    print("Neither pmtui nor Spark is available here: install pmtui (`pip install pmtui`) to read the mirror.")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Project and task workflows
# MAGIC Each request is planned by the configured planner and routed by the routing rules. With `execute`
# MAGIC false nothing leaves this notebook; with `execute` true the plans run as `pmtui do --yes` would run
# MAGIC them (journaled, with rollback on failure).

# COMMAND ----------

if HAVE_PMTUI:
    from pmtui.config import load_settings
    from pmtui.core.agent import make_planner
    from pmtui.core.engine import Engine
    from pmtui.core.orchestrator import AgentOrchestrator

    settings = load_settings()
    planner, note = make_planner(settings)
    if note:
        print(note)
    engine = Engine.open(settings)
    orchestrator = AgentOrchestrator(engine, planner)
    print("configured services:", ", ".join(s.value for s in engine.configured_services()) or "none (local only)")

# COMMAND ----------

# MAGIC %md
# MAGIC ### Bulk operations
# MAGIC Every request in `requests` is planned in one pass; one row per planned action.

# COMMAND ----------

if HAVE_PMTUI:
    planned = []
    for text in [r.strip() for r in REQUESTS.split(";") if r.strip()]:
        result = orchestrator.plan_request(text)
        if EXECUTE and result.status == "planned":
            result = orchestrator.run(result)
        lines = result.plan_lines() or [result.summary()]
        for line in lines:
            planned.append({"request": text, "status": result.status, "action": line})
    out.table("bulk_plans", planned)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Error handling
# MAGIC Errors carry what to do: an unclear request comes back as a question or "nothing understood", never a
# MAGIC guess; a service that is not configured raises an error with a hint instead of failing half-way.

# COMMAND ----------

if HAVE_PMTUI:
    from pmtui.errors import PmtuiError
    from pmtui.models import Service

    demonstrations = []
    unclear = orchestrator.plan_request("asdf qwerty")
    demonstrations.append({"case": "unclear request", "status": unclear.status, "message": unclear.summary()})
    missing = next((s for s in (Service.LINEAR, Service.MOTION, Service.NOTION, Service.GITLAB)
                    if s not in engine.configured_services()), None)
    if missing is not None:
        try:
            engine.integration(missing)
        except PmtuiError as exc:
            demonstrations.append({"case": f"{missing.value} not configured", "status": type(exc).__name__,
                                   "message": exc.user_text()})
    out.table("error_handling", demonstrations)
    engine.close()
