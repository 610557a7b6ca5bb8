"""The code activity around one GitLab issue: its merge requests and the commits that reference it.

GitLab has no single "activity of an issue" endpoint, so it is assembled from four REST answers:

- ``GET .../issues/:iid/related_merge_requests``: every MR that mentions the issue (full MR entity,
  with ``head_pipeline``);
- ``GET .../issues/:iid/closed_by``: the MRs that close it on merge. GitLab answers this for *open*
  issues only (``Issue#closed_by_merge_requests``), so once an MR has closed the issue its
  "closes" flag comes from the system note "closed via merge request !N" instead;
- ``GET .../issues/:iid/notes``: GitLab records a commit that references the issue as a system note
  "mentioned in commit <sha>" (``SystemNotes::IssuablesService#cross_reference``), or "closed via
  commit <sha>" when its message closed the issue;
- ``GET /projects/:id/merge_requests/:iid/commits``: each MR's commits (first page only: the newest
  100, one request per MR).

An MR listed only by ``closed_by`` comes as the basic entity, which has no pipeline: it costs one
``GET`` of the MR. For the demo issue with one MR this is four requests in all.

The module is pure apart from the two callables it is handed (the GitLab integration passes its
limiter-guarded page reader), and it never imports python-gitlab: the cache, the briefing and the task
detail read :class:`IssueActivity` through :meth:`IssueActivity.from_json` on their start path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

Raw = dict[str, Any]
PageReader = Callable[[str, str], Iterator[list[Raw]]]
"""``(path, action) -> pages``: one request per page, consumed lazily (stop early, pay less)."""
ItemReader = Callable[[str, str], Raw]
"""``(path, action) -> object``: one GET of a single object."""

ACTIVITY_FORMAT = 1
"""Version of :meth:`IssueActivity.to_json`'s shape; a cached payload of another version is refetched."""

MR_STATES = ("opened", "merged", "closed", "locked")
"""GitLab's merge request states, in the order the detail screen lists them."""

COMMIT_NOTE = re.compile(
    r"^(?P<how>mentioned in|closed via) commit (?:(?P<project>[\w.\-/]+)@)?(?P<sha>[0-9a-f]{7,40})\b"
)
"""The system notes GitLab writes on an issue when a commit references or closes it."""
CLOSED_VIA_MR = re.compile(r"^closed via merge request (?:[\w.\-/]+)?!(?P<iid>\d+)\b")
"""The system note GitLab writes on an issue that a merged MR closed."""


@dataclass(frozen=True, kw_only=True)
class CommitActivity:
    """A commit that touches the issue: one of its MRs' commits, or one that mentions it."""

    sha: str
    """The full SHA for MR commits; a mention note may carry a shortened one."""
    short_id: str
    title: str | None = None
    author: str | None = None
    at: str | None = None
    """ISO 8601 instant: the commit date, or the mention note's time when GitLab gave no commit."""
    web_url: str | None = None
    merge_request_iid: int | None = None
    """The MR the commit belongs to, if it came from one."""
    mentioned: bool = False
    """True when a system note on the issue references the commit."""


@dataclass(frozen=True, kw_only=True)
class MergeRequestActivity:
    """One merge request related to the issue, with what the user needs to judge it at a glance."""

    iid: int
    project_id: int | None
    title: str
    state: str
    """``opened``, ``merged``, ``closed`` or ``locked``."""
    draft: bool
    closes: bool
    """The MR closes the issue on merge (or already did)."""
    pipeline: str | None
    """The head pipeline's status (``success``, ``failed``, ``running``, ...) or None without one."""
    web_url: str | None = None
    reference: str | None = None
    updated_at: str | None = None
    commit_count: int = 0


@dataclass(frozen=True, kw_only=True)
class IssueActivity:
    """Everything code-related around one issue; plain data, stored as JSON in the cache."""

    merge_requests: tuple[MergeRequestActivity, ...] = ()
    commits: tuple[CommitActivity, ...] = ()
    format: int = field(default=ACTIVITY_FORMAT)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the cache payload)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssueActivity | None:
        """Read a cache payload back; None when it is of another format (the caller refetches)."""
        if not isinstance(data, Mapping) or data.get("format") != ACTIVITY_FORMAT:
            return None
        mr_fields = set(MergeRequestActivity.__dataclass_fields__)
        commit_fields = set(CommitActivity.__dataclass_fields__)
        try:
            mrs = tuple(
                MergeRequestActivity(**{k: v for k, v in item.items() if k in mr_fields})
                for item in data.get("merge_requests") or ()
            )
            commits = tuple(
                CommitActivity(**{k: v for k, v in item.items() if k in commit_fields})
                for item in data.get("commits") or ()
            )
        except (TypeError, AttributeError):
            return None
        return cls(merge_requests=mrs, commits=commits)

    def open_merge_requests(self) -> list[MergeRequestActivity]:
        """The MRs still open (drafts included)."""
        return [mr for mr in self.merge_requests if mr.state == "opened"]


# ------------------------------------------------------------------------------------ pure parts


def pipeline_status(raw: Mapping[str, Any]) -> str | None:
    """The head pipeline's status of an MR object (``head_pipeline``, else the older ``pipeline``)."""
    pipeline = raw.get("head_pipeline") or raw.get("pipeline")
    status = pipeline.get("status") if isinstance(pipeline, Mapping) else None
    return str(status) if status else None


def has_pipeline_field(raw: Mapping[str, Any]) -> bool:
    """Whether the MR object is the full entity (it says something about the pipeline, maybe null)."""
    return "head_pipeline" in raw or "pipeline" in raw


def mr_key(raw: Mapping[str, Any]) -> tuple[int | None, int]:
    """MRs of different projects may share an iid: identify them by (project, iid)."""
    project = raw.get("project_id") or raw.get("target_project_id")
    return (int(project) if project is not None else None, int(raw["iid"]))


def closed_via_merge_requests(notes: Iterable[Mapping[str, Any]]) -> set[int]:
    """The iids of the MRs whose merge closed the issue, from its system notes."""
    found: set[int] = set()
    for note in notes:
        if note.get("system"):
            match = CLOSED_VIA_MR.match(str(note.get("body") or ""))
            if match:
                found.add(int(match["iid"]))
    return found


def commits_from_notes(notes: Iterable[Mapping[str, Any]]) -> list[CommitActivity]:
    """Commits referenced by the issue's system notes, oldest note first, each SHA once."""
    found: dict[str, CommitActivity] = {}
    for note in notes:
        if not note.get("system"):
            continue
        match = COMMIT_NOTE.match(str(note.get("body") or ""))
        if match is None or match["sha"] in found:
            continue
        author = note.get("author")
        name = (author.get("name") or author.get("username")) if isinstance(author, Mapping) else None
        sha = match["sha"]
        found[sha] = CommitActivity(
            sha=sha,
            short_id=sha[:8],
            author=str(name) if name else None,
            at=str(note.get("created_at")) if note.get("created_at") else None,
            mentioned=True,
        )
    return list(found.values())


def commit_from_raw(raw: Mapping[str, Any], merge_request_iid: int) -> CommitActivity:
    """One entry of an MR's ``/commits`` answer."""
    sha = str(raw.get("id") or "")
    return CommitActivity(
        sha=sha,
        short_id=str(raw.get("short_id") or sha[:8]),
        title=str(raw["title"]) if raw.get("title") else None,
        author=str(raw["author_name"]) if raw.get("author_name") else None,
        at=str(raw.get("committed_date") or raw.get("created_at") or "") or None,
        web_url=str(raw["web_url"]) if raw.get("web_url") else None,
        merge_request_iid=merge_request_iid,
    )


def merge_commits(
    mr_commits: Iterable[CommitActivity], mentioned: Iterable[CommitActivity]
) -> list[CommitActivity]:
    """MR commits and mentioned ones as one list, newest first; a mention of an MR commit (by SHA
    prefix: notes may carry a short SHA) marks that commit instead of adding a second entry."""
    merged: list[CommitActivity] = []
    seen: set[str] = set()
    for commit in mr_commits:
        if commit.sha and commit.sha not in seen:
            seen.add(commit.sha)
            merged.append(commit)
    for mention in mentioned:
        index = next((i for i, c in enumerate(merged) if c.sha.startswith(mention.sha)), None)
        if index is None:
            merged.append(mention)
        else:
            known = merged[index]
            merged[index] = CommitActivity(**{**asdict(known), "mentioned": True})
    merged.sort(key=lambda c: c.at or "", reverse=True)
    return merged


def merge_request_from_raw(
    raw: Mapping[str, Any], *, closes: bool, commit_count: int = 0
) -> MergeRequestActivity:
    """The facts kept about one MR object (full or basic entity)."""
    references = raw.get("references")
    reference = references.get("full") if isinstance(references, Mapping) else raw.get("reference")
    project = raw.get("project_id") or raw.get("target_project_id")
    return MergeRequestActivity(
        iid=int(raw["iid"]),
        project_id=int(project) if project is not None else None,
        title=str(raw.get("title") or ""),
        state=str(raw.get("state") or "opened"),
        draft=bool(raw.get("draft") or raw.get("work_in_progress")),
        closes=closes,
        pipeline=pipeline_status(raw),
        web_url=str(raw["web_url"]) if raw.get("web_url") else None,
        reference=str(reference) if reference else None,
        updated_at=str(raw["updated_at"]) if raw.get("updated_at") else None,
        commit_count=commit_count,
    )


def combine_merge_requests(
    related: Iterable[Raw], closing: Iterable[Raw], closed_via: set[int]
) -> list[tuple[Raw, bool]]:
    """Related and closing MRs, each once (by project and iid), with its ``closes`` flag.

    The related entry wins when both list it: it is the full entity, the one with the pipeline.
    """
    closing_keys = set()
    combined: dict[tuple[int | None, int], Raw] = {}
    for raw in related:
        combined.setdefault(mr_key(raw), raw)
    for raw in closing:
        closing_keys.add(mr_key(raw))
        combined.setdefault(mr_key(raw), raw)
    out = [(raw, key in closing_keys or key[1] in closed_via) for key, raw in combined.items()]
    order = {state: n for n, state in enumerate(MR_STATES)}
    out.sort(key=lambda item: (order.get(str(item[0].get("state")), len(order)), -int(item[0]["iid"])))
    return out


# -------------------------------------------------------------------------------------- fetching


def first_page(pages: PageReader, path: str, action: str) -> list[Raw]:
    """Only the first page of a listing (one request)."""
    return next(pages(path, action), [])


def every_item(pages: PageReader, path: str, action: str) -> list[Raw]:
    """Every item of a listing, following its pages."""
    return [item for page in pages(path, action) for item in page]


def fetch_issue_activity(issue_path: str, *, pages: PageReader, get: ItemReader) -> IssueActivity:
    """Assemble the activity of the issue at ``issue_path`` (``/projects/:id/issues/:iid``).

    Requests: related MRs, closing MRs, the notes (one per 100), one per MR for its commits, and one
    per MR known only from ``closed_by`` (for its pipeline).
    """
    related = every_item(pages, f"{issue_path}/related_merge_requests", "related merge requests")
    closing = every_item(pages, f"{issue_path}/closed_by", "closing merge requests")
    notes = every_item(pages, f"{issue_path}/notes", "list notes")
    closed_via = closed_via_merge_requests(notes)

    merge_requests: list[MergeRequestActivity] = []
    mr_commits: list[CommitActivity] = []
    for raw, closes in combine_merge_requests(related, closing, closed_via):
        project, iid = mr_key(raw)
        mr_path = f"/projects/{project}/merge_requests/{iid}"
        full = raw if has_pipeline_field(raw) or project is None else get(mr_path, "get merge request")
        commits = (
            [
                commit_from_raw(c, iid)
                for c in first_page(pages, f"{mr_path}/commits", "merge request commits")
            ]
            if project is not None
            else []
        )
        mr_commits.extend(commits)
        merge_requests.append(merge_request_from_raw(full, closes=closes, commit_count=len(commits)))
    return IssueActivity(
        merge_requests=tuple(merge_requests),
        commits=tuple(merge_commits(mr_commits, commits_from_notes(notes))),
    )
