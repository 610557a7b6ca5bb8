"""Notion over its public API (version 2025-09-03: data sources), with notion-client 3.1.

A task is a page of the configured tasks data source; its fields live in properties named in
``[notion.properties]`` (see :mod:`pmtui.integrations.notion_mapping` for the tables). The data source's
schema is read once per process, checked against those names (a missing or mistyped property is a
:class:`ValidationError` naming the property and the config key) and kept for the status groups.

Idempotency: Notion keeps no client id, so pmtui adds a ``rich_text`` property (default "pmtui key") to
the data source the first time it needs it, writes the key there on create, and finds a page by it with
a ``rich_text equals`` query. A query never returns trashed pages, which is right here: a trashed page
was deleted on purpose.

Changes: ``list_changes`` asks for pages edited ``on_or_after`` the cursor, oldest edit first, 100 a page.
Notion rounds ``last_edited_time`` down to the minute, so a page edited again in the minute it was read
keeps its stamp: the window must include the cursor's own minute, and the engine merges a re-read page
whose values differ from what it last agreed even when its stamp did not move. Between pages the cursor
is the newest stamp seen; after the last page it is the minute of the listing's server time (the
``Date`` header of its first response) less :data:`SERVER_TIME_MARGIN`, so the next listing re-reads
only what was edited in that margin rather than the whole last minute of edits (which cost the 1 %
sync an extra page). Trashed pages never appear in a query, so deletions made in Notion are found by
the engine's periodic :meth:`NotionIntegration.get_task` confirmation, which reports them as
``deleted``.

Retries: the client's own retry (3.1's ``RetryOptions``) is turned off. It sleeps inside the call, outside
the shared :class:`RateLimiter`, so other callers would keep spending the budget during a Retry-After;
:func:`with_retries` pauses the whole limiter for the Retry-After instead and retries 5xx only on calls
that are safe to repeat.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar

import httpx
from notion_client import Client
from notion_client.errors import HTTPResponseError, NotionClientErrorBase, RequestTimeoutError

from pmtui.config import SECRET_ENV, NotionSettings
from pmtui.errors import (
    AuthError,
    NotConfiguredError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    ServiceError,
    TransientError,
    ValidationError,
)
from pmtui.integrations.base import (
    Capabilities,
    ChangePage,
    Health,
    Integration,
    RemoteComment,
    RemoteProject,
    RemoteTask,
    TaskPatch,
    map_items,
)
from pmtui.integrations.comments import find_marked, to_remote_comments
from pmtui.integrations.limits import (
    Lane,
    RateLimiter,
    create_once,
    limiter_for,
    parse_retry_after,
    with_retries,
)
from pmtui.integrations.notion_mapping import (
    PAGE_SIZE,
    DataSourceSchema,
    as_dict,
    changes_query,
    comment_rich_text,
    comment_tag,
    comment_text,
    format_cursor,
    key_filter,
    newest,
    next_window,
    page_results,
    parse_cursor,
    parse_schema,
    project_payload,
    schema_problems,
    task_fields,
    to_payload,
    to_remote_project,
    to_remote_task,
)
from pmtui.models import Project, Service, Task

T = TypeVar("T")

SERVICE = Service.NOTION.value
ENV_VAR = SECRET_ENV[Service.NOTION]
log = logging.getLogger("pmtui.notion")

_USER_NAMES: dict[tuple[str, str], str] = {}
"""(API base URL, user id) -> name: comment authors looked up by id, kept for the process (names rarely
change, and a sync lists comments of many pages by the same few people)."""
_USER_NAMES_LOCK = threading.Lock()


def forget_user_names() -> None:
    """Drop the process's cached user names (tests, or after renaming people in Notion)."""
    with _USER_NAMES_LOCK:
        _USER_NAMES.clear()


CLIENT_LOGGER = "pmtui.notion.client"
"""notion-client logs here (its default logger adds a stderr handler per client, which a TUI cannot have)."""


def _service_message(exc: HTTPResponseError) -> str:
    """Notion's own words: the error object's ``message`` (parsed from the body when the client could not)."""
    try:
        body = json.loads(exc.body) if exc.body else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    text = str(exc).strip()
    return text or f"HTTP {exc.status}"


def _code(exc: HTTPResponseError) -> str:
    code = exc.code
    value = getattr(code, "value", code)
    if value == "notionhq_client_response_error":
        try:
            body = json.loads(exc.body) if exc.body else None
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            return str(body["code"])
    return str(value)


def translate_error(exc: Exception, action: str) -> ServiceError:
    """The pmtui error for a notion-client (or httpx transport) exception; never carries the key."""
    if isinstance(exc, RequestTimeoutError):
        return TransientError(f"{action}: Notion did not answer in time", service=SERVICE)
    if isinstance(exc, httpx.TransportError):
        return TransientError(
            f"{action}: connection to Notion failed ({type(exc).__name__})", service=SERVICE
        )
    if not isinstance(exc, HTTPResponseError):
        return PermanentError(f"{action}: {exc}", service=SERVICE)
    status = exc.status
    code = _code(exc)
    message = _service_message(exc)
    if status == 401 or code == "unauthorized":
        return AuthError(
            f"{action}: Notion refused the API key ({message})",
            service=SERVICE,
            env_var=ENV_VAR,
            status=status,
        )
    if status == 403 or code == "restricted_resource":
        return AuthError(
            f"{action}: {message} (share the page or data source with the integration)",
            service=SERVICE,
            env_var=ENV_VAR,
            status=status,
        )
    if status == 404 or code == "object_not_found":
        return NotFoundError(f"{action}: {message}", service=SERVICE, status=status)
    if status == 429 or code == "rate_limited":
        return RateLimitedError(
            f"{action}: {message}",
            service=SERVICE,
            retry_after=parse_retry_after(exc.headers.get("retry-after")),
        )
    if status == 409 or code == "conflict_error":
        # Notion: "the transaction could not be completed ... try again" (nothing was applied).
        return TransientError(f"{action}: {message}", service=SERVICE, status=status)
    if status == 400:
        return ValidationError(message, service=SERVICE, status=status)
    if status >= 500 or status == 408:
        return TransientError(f"{action}: {message}", service=SERVICE, status=status)
    return PermanentError(f"{action}: {message}", service=SERVICE, status=status)


class NotionIntegration(Integration):
    """Notion behind the common interface; every HTTP call goes through the shared limiter."""

    service: ClassVar[Service] = Service.NOTION
    capabilities: ClassVar[Capabilities] = Capabilities(
        projects=True,
        milestones=False,
        due_dates=True,
        due_times=True,
        scheduling=False,
        comments=True,
        labels=True,
        priorities=True,
        durations=False,
        client_ids=False,
        archives=True,
        incremental=True,
        max_page_size=PAGE_SIZE,
    )

    def __init__(
        self,
        settings: NotionSettings,
        api_key: str,
        *,
        client: Client | None = None,
        limiter: RateLimiter | None = None,
        retry_sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.names = settings.properties
        self._owns_client = client is None
        self.client = client or Client(
            auth=api_key,
            base_url=settings.base_url,
            timeout_ms=int(settings.timeout_seconds * 1000),
            retry=False,
            logger=logging.getLogger(CLIENT_LOGGER),
            log_level=logging.WARNING,
        )
        self.limiter = limiter or limiter_for(SERVICE, settings.base_url, settings.requests_per_minute)
        self._retry_sleep = retry_sleep
        self._lock = threading.RLock()
        self._schema: DataSourceSchema | None = None
        self._projects_schema: DataSourceSchema | None = None
        self._projects_key_ready = False
        self._server_time = threading.local()
        """The ``Date`` of the last response this thread received (see :meth:`_note_server_time`)."""
        self.client.client.event_hooks["response"].append(self._note_server_time)

    def _note_server_time(self, response: httpx.Response) -> None:
        """Remember the response's ``Date``: the service's own clock, which the change window needs."""
        self._server_time.value = response.headers.get("date")

    def _last_server_time(self) -> datetime | None:
        """The ``Date`` of this thread's last response; None when absent or unreadable."""
        text = getattr(self._server_time, "value", None)
        if not text:
            return None
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None

    # ------------------------------------------------------------------------------------- http

    def _call(self, fn: Callable[[], Any], *, lane: Lane, action: str, retry_transient: bool = True) -> Any:
        def attempt() -> Any:
            try:
                return fn()
            except (NotionClientErrorBase, httpx.TransportError) as exc:
                raise translate_error(exc, action) from exc

        return with_retries(
            attempt,
            limiter=self.limiter,
            service=SERVICE,
            lane=lane,
            retry_transient=retry_transient,
            sleep=self._retry_sleep,
        )

    def _query_pages(
        self, data_source_id: str, body: dict[str, Any], *, lane: Lane, action: str
    ) -> Iterator[tuple[list[dict[str, Any]], bool]]:
        """Each page of a data source query and whether it is the last (``has_more`` false)."""
        start: str | None = None
        while True:
            kwargs = dict(body, **({"start_cursor": start} if start else {}))

            def query(kw: dict[str, Any] = kwargs) -> Any:
                return self.client.data_sources.query(data_source_id, **kw)

            answer = self._call(query, lane=lane, action=action)
            start = answer.get("next_cursor") if answer.get("has_more") else None
            yield [dict(p) for p in page_results(answer)], start is None
            if start is None:
                return

    # ----------------------------------------------------------------------------------- schema

    def _tasks_id(self) -> str:
        if not self.settings.tasks_data_source_id:
            raise NotConfiguredError(
                "no tasks data source configured",
                service=SERVICE,
                hint='set [notion] tasks_data_source_id = "<data source id>" (`pmtui doctor` lists them)',
            )
        return self.settings.tasks_data_source_id

    def check_schema(self, lane: Lane = Lane.USER, *, refresh: bool = False) -> DataSourceSchema:
        """The tasks data source's schema, checked against ``[notion.properties]``, the key property added.

        Read once per process (``refresh`` reads it again). Raises :class:`ValidationError` naming the
        property and its config key when one is missing or of a type pmtui cannot map.
        """
        with self._lock:
            if self._schema is not None and not refresh:
                return self._schema
            raw = self._retrieve_data_source(self._tasks_id(), "tasks_data_source_id", lane)
            schema = parse_schema(raw)
            problems = schema_problems(schema, self.names)
            if problems:
                self._schema = None
                raise ValidationError(
                    "; ".join(p.message for p in problems), service=SERVICE, hint=problems[0].hint
                )
            if self.names.key and schema.get(self.names.key) is None:
                schema = self._add_key_property(schema.id, lane)
            self._schema = schema
            return schema

    def _retrieve_data_source(self, ds_id: str, config_key: str, lane: Lane) -> Any:
        """``GET /v1/data_sources/{id}``; a database id given instead is named as such, with its sources."""
        what = config_key.removesuffix("_data_source_id")
        try:
            return self._call(
                lambda: self.client.data_sources.retrieve(ds_id),
                lane=lane,
                action=f"read the {what} data source",
            )
        except NotFoundError as missing:
            try:
                database = self._call(
                    lambda: self.client.databases.retrieve(ds_id), lane=lane, action="read the database"
                )
            except NotFoundError:
                raise missing from None
            sources = ", ".join(
                f"{s.get('name') or '?'} ({s.get('id')})"
                for s in database.get("data_sources") or []
                if isinstance(s, dict)
            )
            hint = f'set [notion] {config_key} = "<data source id>"' + (
                f"; its data sources: {sources}" if sources else ""
            )
            raise ValidationError(
                f"{ds_id} is a database, not a data source (Notion 2025-09-03); {hint}",
                service=SERVICE,
                hint=hint,
            ) from missing

    def _add_key_property(self, data_source_id: str, lane: Lane) -> DataSourceSchema:
        """Add the ``rich_text`` key property to a data source (once) and return the new schema."""
        name = self.names.key
        raw = self._call(
            lambda: self.client.data_sources.update(data_source_id, properties={name: {"rich_text": {}}}),
            lane=lane,
            action=f"add the {name!r} property",
        )
        return parse_schema(raw)

    def _projects_id(self, lane: Lane) -> str | None:
        if self.settings.projects_data_source_id:
            return self.settings.projects_data_source_id
        relation = self.check_schema(lane).get(self.names.project)
        return relation.relation_data_source_id if relation else None

    def projects_schema(self, lane: Lane = Lane.BACKGROUND, *, with_key: bool = False) -> DataSourceSchema:
        """The projects data source's schema (configured, else the Project relation's target)."""
        with self._lock:
            if self._projects_schema is None:
                ds_id = self._projects_id(lane)
                if not ds_id:
                    raise NotConfiguredError(
                        "no projects data source configured",
                        service=SERVICE,
                        hint='set [notion] projects_data_source_id = "<data source id>"',
                    )
                raw = self._retrieve_data_source(ds_id, "projects_data_source_id", lane)
                self._projects_schema = parse_schema(raw)
            schema = self._projects_schema
            if with_key and not self._projects_key_ready:
                if self.names.key and schema.get(self.names.key) is None:
                    schema = self._projects_schema = self._add_key_property(schema.id, lane)
                self._projects_key_ready = True
            return schema

    def _forget_schema(self) -> None:
        """Drop the cached schema after Notion rejected a write (options may have been renamed)."""
        with self._lock:
            self._schema = None

    # ---------------------------------------------------------------------------------- health

    def health(self) -> Health:
        """Who the key belongs to, the data sources resolved and checked, and the budget left here."""
        budget: dict[str, Any] = {
            "rate_remaining": self.limiter.remaining,
            "rate_limit": self.limiter.rate * 60,
        }
        try:
            me = self._call(lambda: self.client.users.me(), lane=Lane.USER, action="who am I") or {}
        except ServiceError as exc:
            return Health(service=self.service, ok=False, detail=exc.message, hint=exc.hint, **budget)
        bot = as_dict(me.get("bot"))
        account = me.get("name") or bot.get("workspace_name") or me.get("id")
        ids = {"bot_user_id": str(me.get("id", ""))}
        if not self.settings.tasks_data_source_id:
            return Health(
                service=self.service,
                ok=False,
                detail="no tasks data source configured",
                account=account,
                ids=ids,
                hint=self._data_source_hint(),
                **budget,
            )
        try:
            schema = self.check_schema(Lane.USER, refresh=True)
        except ServiceError as exc:
            return Health(
                service=self.service,
                ok=False,
                detail=exc.message,
                account=account,
                ids=ids,
                hint=exc.hint,
                **budget,
            )
        ids.update(tasks_data_source_id=schema.id, tasks_database_id=schema.database_id or "")
        detail = f"tasks in {schema.title!r}"
        hint: str | None = None
        try:
            projects = self.projects_schema(Lane.USER)
        except NotConfiguredError as exc:
            detail, hint = f"{detail}; {exc.message}", exc.hint
        except ServiceError as exc:
            return Health(
                service=self.service,
                ok=False,
                detail=f"projects data source: {exc.message}",
                account=account,
                ids=ids,
                hint=exc.hint,
                **budget,
            )
        else:
            ids["projects_data_source_id"] = projects.id
            detail = f"{detail}, projects in {projects.title!r}"
        return Health(
            service=self.service,
            ok=True,
            detail=detail,
            account=str(account) if account else None,
            ids=ids,
            hint=hint,
            rate_remaining=self.limiter.remaining,
            rate_limit=self.limiter.rate * 60,
        )

    def _data_source_hint(self) -> str:
        """The data sources the integration can see, for the "set tasks_data_source_id" hint."""
        hint = 'set [notion] tasks_data_source_id = "<data source id>"'
        try:
            found = self._call(
                lambda: self.client.search(
                    filter={"property": "object", "value": "data_source"}, page_size=20
                ),
                lane=Lane.USER,
                action="list data sources",
            )
        except ServiceError:
            return hint
        listed = [parse_schema(r) for r in found.get("results", []) if isinstance(r, dict)]
        if not listed:
            return hint + "; no data source is shared with the integration yet"
        return hint + "; shared data sources: " + ", ".join(f"{s.title} ({s.id})" for s in listed)

    # ----------------------------------------------------------------------------------- tasks

    def _payload(self, fields: dict[str, Any], schema: DataSourceSchema, **kwargs: Any) -> dict[str, Any]:
        try:
            return to_payload(fields, schema, self.names, **kwargs)
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc

    def _write(self, fn: Callable[[], Any], *, action: str, retry_transient: bool = True) -> Any:
        try:
            return self._call(fn, lane=Lane.USER, action=action, retry_transient=retry_transient)
        except ValidationError:
            self._forget_schema()
            raise

    def create_task(
        self, task: Task, *, idempotency_key: str, project_external_id: str | None = None
    ) -> RemoteTask:
        """Create the page once, the key in its key property; after an unknown outcome the caller finds it."""
        schema = self.check_schema(Lane.USER)
        properties = self._payload(
            task_fields(task),
            schema,
            creating=True,
            idempotency_key=idempotency_key,
            project_external_id=project_external_id,
        )
        parent = {"type": "data_source_id", "data_source_id": schema.id}
        raw = self._write(
            lambda: self.client.pages.create(parent=parent, properties=properties),
            action="create task",
            retry_transient=False,
        )
        return to_remote_task(raw, schema, self.names)

    def update_task(self, external_id: str, patch: TaskPatch) -> RemoteTask:
        """Write the changed properties (idempotent, so transient failures are retried)."""
        fields = dict(patch.fields)
        if "due_all_day" in fields and "due" not in fields:
            # A date property holds the day and the time together: rewrite the current due in the new form.
            current = self.get_task(external_id)
            if current is None:
                raise NotFoundError(f"task {external_id} not found", service=SERVICE, status=404)
            fields["due"] = current.task.due
        schema = self.check_schema(Lane.USER)
        properties = self._payload(fields, schema, project_external_id=patch.project_external_id)
        if not properties:
            found = self.get_task(external_id)
            if found is None:
                raise NotFoundError(f"task {external_id} not found", service=SERVICE, status=404)
            return found
        raw = self._write(
            lambda: self.client.pages.update(external_id, properties=properties), action="update task"
        )
        return to_remote_task(raw, schema, self.names)

    def delete_task(self, external_id: str) -> None:
        """Move the page to the trash (``in_trash``); a missing page is fine."""
        try:
            self._call(
                lambda: self.client.pages.update(external_id, in_trash=True),
                lane=Lane.USER,
                action="delete task",
            )
        except NotFoundError:
            return None

    def get_task(self, external_id: str) -> RemoteTask | None:
        """The page (trashed ones too, as ``deleted``), or None when Notion answers 404."""
        schema = self.check_schema(Lane.BACKGROUND)
        try:
            raw = self._call(
                lambda: self.client.pages.retrieve(external_id), lane=Lane.BACKGROUND, action="get task"
            )
        except NotFoundError:
            return None
        return to_remote_task(raw, schema, self.names)

    def find_by_idempotency_key(self, key: str, hint: Task | None = None) -> RemoteTask | None:
        """The page whose key property equals ``key`` (one query; trashed pages are not found)."""
        schema = self.check_schema(Lane.USER)
        if not self.names.key:
            return None
        body = {
            "filter": key_filter(self.names.key, key),
            "sorts": [{"timestamp": "created_time", "direction": "ascending"}],
            "page_size": 10,
        }
        for page, _last in self._query_pages(schema.id, body, lane=Lane.USER, action="find task by key"):
            for raw in page:
                remote = to_remote_task(raw, schema, self.names)
                if remote.ref.idempotency_key == key:
                    return remote
            break
        return None

    def list_changes(self, cursor: str | None) -> Iterator[ChangePage]:
        """Pages edited since ``cursor`` (everything when None), oldest edit first, 100 a page.

        Each page's cursor is the newest ``last_edited_time`` seen so far, safe to store after that page
        because the listing is ascending; the last page's starts the next window where this listing's
        server time puts it (see the module doc), so the next one has no overlap page.
        """
        since = parse_cursor(cursor)
        schema = self.check_schema(Lane.BACKGROUND)
        latest = since
        server_time: datetime | None = None
        for index, (page, last) in enumerate(
            self._query_pages(
                schema.id, changes_query(since), lane=Lane.BACKGROUND, action="list changed tasks"
            )
        ):
            if index == 0:
                server_time = self._last_server_time()
            items, skipped = map_items(
                page, lambda raw: to_remote_task(raw, schema, self.names), lambda raw: str(raw["id"])
            )
            latest = newest((item.ref.remote_updated_at for item in items), latest)
            position = next_window(server_time, since, latest) if last else latest
            yield ChangePage(
                items=items,
                cursor=format_cursor(position) if position else cursor,
                last=last,
                skipped=skipped,
            )

    # -------------------------------------------------------------------------------- projects

    def list_projects(self) -> list[RemoteProject]:
        """Every page of the projects data source ([] when none is configured or related)."""
        try:
            schema = self.projects_schema(Lane.BACKGROUND)
        except NotConfiguredError:
            return []
        return [
            to_remote_project(raw, schema, self.names.key)
            for page, _last in self._query_pages(
                schema.id, {"page_size": PAGE_SIZE}, lane=Lane.BACKGROUND, action="list projects"
            )
            for raw in page
        ]

    def _find_project(self, schema: DataSourceSchema, key: str) -> RemoteProject | None:
        if schema.get(self.names.key) is None:
            return None
        body = {"filter": key_filter(self.names.key, key), "page_size": 10}
        for page, _last in self._query_pages(schema.id, body, lane=Lane.USER, action="find project by key"):
            for raw in page:
                remote = to_remote_project(raw, schema, self.names.key)
                if remote.ref.idempotency_key == key:
                    return remote
            break
        return None

    def create_project(self, project: Project, *, idempotency_key: str) -> RemoteProject:
        """Find a project page carrying the key first, else create it (the key in the key property)."""
        schema = self.projects_schema(Lane.USER, with_key=True)
        found = self._find_project(schema, idempotency_key)
        if found is not None:
            return found
        try:
            properties, children = project_payload(project, schema, self.names.key, idempotency_key)
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc
        parent = {"type": "data_source_id", "data_source_id": schema.id}
        extra = {"children": children} if children else {}

        def post() -> RemoteProject:
            raw = self._call(
                lambda: self.client.pages.create(parent=parent, properties=properties, **extra),
                lane=Lane.USER,
                action="create project",
                retry_transient=False,
            )
            return to_remote_project(raw, schema, self.names.key)

        return self._create_once(post, lambda: self._find_project(schema, idempotency_key))

    def _create_once(self, post: Callable[[], T], find: Callable[[], T | None]) -> T:
        return create_once(post, find, sleep=self._retry_sleep)

    # -------------------------------------------------------------------------------- comments

    def _raw_comments(self, external_id: str, lane: Lane) -> Iterator[dict[str, Any]]:
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"block_id": external_id, "page_size": PAGE_SIZE}
            if start:
                kwargs["start_cursor"] = start

            def page(kw: dict[str, Any] = kwargs) -> Any:
                return self.client.comments.list(**kw)

            answer = self._call(page, lane=lane, action="list comments")
            yield from (c for c in answer.get("results", []) if isinstance(c, dict))
            start = answer.get("next_cursor") if answer.get("has_more") else None
            if start is None:
                return

    def add_comment(self, external_id: str, body: str, *, idempotency_key: str) -> str:
        """Comment with a short ``[pmtui:<tag>]`` marker; after an unknown outcome it tells if it landed."""
        try:
            rich_text = comment_rich_text(body, idempotency_key)
        except ValueError as exc:
            raise ValidationError(str(exc), service=SERVICE) from exc
        tag = comment_tag(idempotency_key)

        def post() -> str:
            raw = self._call(
                lambda: self.client.comments.create(parent={"page_id": external_id}, rich_text=rich_text),
                lane=Lane.USER,
                action="add comment",
                retry_transient=False,
            )
            return str(raw["id"])

        def find() -> str | None:
            return find_marked(self._raw_comments(external_id, Lane.USER), comment_text, tag)

        return self._create_once(post, find)

    def list_comments(self, external_id: str) -> list[RemoteComment]:
        """The page's comments, oldest first, pmtui's tags stripped, each author by name."""
        return to_remote_comments(
            self._raw_comments(external_id, Lane.BACKGROUND),
            external_id,
            split=comment_text,
            author=self._comment_author,
            created=lambda raw: raw.get("created_time"),
        )

    def _comment_author(self, raw: Mapping[str, Any]) -> str | None:
        """The name Notion shows for the comment's author.

        ``created_by`` holds only ``{object, id}``; the readable name is ``display_name.resolved_name``.
        A comment without one (older comments, older API versions) is named by a users lookup, cached
        for the process; when even that fails (an integration without user capabilities gets 403), the
        user id stands in.
        """
        shown = as_dict(raw.get("display_name")).get("resolved_name")
        if isinstance(shown, str) and shown:
            return shown
        user_id = as_dict(raw.get("created_by")).get("id")
        if not isinstance(user_id, str) or not user_id:
            return None
        return self.user_name(user_id)

    def user_name(self, user_id: str) -> str:
        """A Notion user's name by id (``GET /v1/users/{id}``), looked up once per process."""
        key = (self.settings.base_url, user_id)
        with _USER_NAMES_LOCK:
            cached = _USER_NAMES.get(key)
        if cached is not None:
            return cached
        try:
            user = self._call(
                lambda: self.client.users.retrieve(user_id), lane=Lane.BACKGROUND, action="read a user"
            )
            name = str(as_dict(user).get("name") or user_id)
        except (AuthError, NotFoundError, ValidationError) as exc:
            log.info("notion.user_lookup_failed", extra={"user_id": user_id, "error": type(exc).__name__})
            name = user_id
        with _USER_NAMES_LOCK:
            _USER_NAMES[key] = name
        return name

    def comment_marker(self, key: str) -> str:
        """Notion comments carry a short visible tag of the key, not the key (see :func:`comment_tag`)."""
        return comment_tag(key)

    def close(self) -> None:
        """Close the HTTP client when this integration built it."""
        if self._owns_client:
            self.client.close()
