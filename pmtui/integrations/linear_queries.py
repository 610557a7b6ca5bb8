"""Every GraphQL document pmtui sends to Linear, in one place so a test can validate them all.

``tests/integrations/test_linear.py`` validates each ``str`` constant of this module against Linear's
published schema (read from ``../shared/specs`` by the tests; the sandbox's own SDL without it) with
graphql-core, and measures its complexity the way Linear scores it (0.1 per property, 1 per object,
connections multiply their children by ``first``), against the 10,000-point cap Linear puts on a single
query. ``tests/contract/test_recorded_linear.py`` checks that every field selected here is one the real
API sends (from a recording of Linear's SDK).

Why the issue selection is shaped as it is: labels come as ``labelIds`` (one property) and are named
from a cached label map, instead of a nested ``labels(first: N) { nodes { name } }``, which costs
``N`` objects per issue and would also silently drop labels past ``N``. With this selection a page of
``ISSUE_PAGE_SIZE`` (250, Linear's largest ``first``) costs about 2,200 points (measured by the test).
"""

from __future__ import annotations

ISSUE_PAGE_SIZE = 250
"""``first`` of the change listing: Linear's maximum page size; it fits the complexity cap (see above)."""

LIST_PAGE_SIZE = 100
"""``first`` of the other listings (teams, states, labels, projects, comments): cheap, rarely paged."""

ISSUE_FIELDS = """
fragment IssueFields on Issue {
  id
  identifier
  title
  description
  priority
  estimate
  dueDate
  url
  createdAt
  updatedAt
  archivedAt
  trashed
  completedAt
  canceledAt
  labelIds
  state { id name type }
  team { id key }
  project { id }
  projectMilestone { id }
  assignee { id name displayName email }
}
"""

MILESTONE_PAGE_SIZE = 100
"""``first`` of the milestone listing riding on the first issue page (a team rarely has more)."""

MILESTONE_FIELDS = """
fragment MilestoneFields on ProjectMilestone {
  id
  name
  targetDate
  sortOrder
  createdAt
  updatedAt
  project { id startDate }
}
"""

PROJECT_FIELDS = """
fragment ProjectFields on Project {
  id
  name
  description
  slugId
  url
  startDate
  targetDate
  createdAt
  updatedAt
  archivedAt
  status { id type }
}
"""

VIEWER = """
query Viewer {
  viewer { id name email }
}
"""

RATE_LIMIT_STATUS = """
query RateLimitStatus {
  rateLimitStatus { kind limits { type allowedAmount remainingAmount period reset } }
}
"""

TEAMS = """
query Teams($first: Int!, $after: String) {
  teams(first: $first, after: $after) {
    nodes { id key name }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TEAM_STATES = """
query TeamStates($teamId: String!, $first: Int!) {
  team(id: $teamId) {
    id
    states(first: $first) { nodes { id name type position } }
  }
}
"""

LABELS = """
query Labels($first: Int!, $after: String) {
  issueLabels(first: $first, after: $after) {
    nodes { id name isGroup team { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TEAM_MEMBERS = """
query TeamMembers($teamId: String!, $first: Int!, $after: String) {
  team(id: $teamId) {
    id
    members(first: $first, after: $after) {
      nodes { id name displayName email }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

LABEL_CREATE = """
mutation LabelCreate($input: IssueLabelCreateInput!) {
  issueLabelCreate(input: $input) { success issueLabel { id name isGroup team { id } } }
}
"""

ISSUE = (
    """
query Issue($id: String!) {
  issue(id: $id) { ...IssueFields }
}
"""
    + ISSUE_FIELDS
)

ISSUES_CHANGED = (
    """
query IssuesChanged(
  $first: Int!
  $after: String
  $filter: IssueFilter
  $withMilestones: Boolean = false
  $milestoneFilter: ProjectMilestoneFilter
  $withTeam: Boolean = false
  $teamFilter: TeamFilter
) {
  issues(first: $first, after: $after, filter: $filter, orderBy: updatedAt, includeArchived: true) {
    nodes { ...IssueFields }
    pageInfo { hasNextPage endCursor }
  }
  projectMilestones(first: """
    + str(MILESTONE_PAGE_SIZE)
    + """, filter: $milestoneFilter) @include(if: $withMilestones) {
    nodes { ...MilestoneFields }
    pageInfo { hasNextPage endCursor }
  }
  teams(first: 2, filter: $teamFilter) @include(if: $withTeam) {
    nodes { id key name }
  }
}
"""
    + ISSUE_FIELDS
    + MILESTONE_FIELDS
)
"""The change listing. The first page also lists the team's project milestones (``withMilestones``):
all of them, every sync, at no extra request; they are few, and a milestone's derived start depends on
its siblings, so an incremental read would not do. A process's first listing with ``team_key`` set
filters by the key and reads the team itself in the same request (``withTeam``), so a sync with nothing
to do costs one request, not a ``Teams`` lookup first."""

PROJECT_MILESTONES = (
    """
query ProjectMilestones($first: Int!, $after: String, $filter: ProjectMilestoneFilter) {
  projectMilestones(first: $first, after: $after, filter: $filter) {
    nodes { ...MilestoneFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + MILESTONE_FIELDS
)
"""The milestones past the first ``MILESTONE_PAGE_SIZE`` (only for teams with more than that)."""

ISSUE_CREATE = (
    """
mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { ...IssueFields } }
}
"""
    + ISSUE_FIELDS
)

ISSUE_UPDATE = (
    """
mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { ...IssueFields } }
}
"""
    + ISSUE_FIELDS
)

ISSUE_ARCHIVE = """
mutation IssueArchive($id: String!) {
  issueArchive(id: $id) { success }
}
"""

COMMENT_CREATE = """
mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id } }
}
"""


ISSUE_COMMENTS = """
query IssueComments($id: String!, $first: Int!, $after: String) {
  issue(id: $id) {
    id
    comments(first: $first, after: $after) {
      nodes { id body createdAt user { id name displayName } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

PROJECT = (
    """
query Project($id: String!) {
  project(id: $id) { ...ProjectFields }
}
"""
    + PROJECT_FIELDS
)

TEAM_PROJECTS = (
    """
query TeamProjects($teamId: String!, $first: Int!, $after: String) {
  team(id: $teamId) {
    id
    projects(first: $first, after: $after) {
      nodes { ...ProjectFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + PROJECT_FIELDS
)

PROJECT_CREATE = (
    """
mutation ProjectCreate($input: ProjectCreateInput!) {
  projectCreate(input: $input) { success project { ...ProjectFields } }
}
"""
    + PROJECT_FIELDS
)


DOCUMENTS: dict[str, str] = {
    name: value
    for name, value in dict(globals()).items()
    if name.isupper()
    and isinstance(value, str)
    and name not in ("ISSUE_FIELDS", "PROJECT_FIELDS", "MILESTONE_FIELDS")
}
"""Every sendable document by constant name (the fragments alone are not operations)."""
