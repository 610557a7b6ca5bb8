"""The four walkthroughs of the docs, each a script against ``pmtui demo`` (see ``docs/walkthroughs.md``).

Wait-for texts are screen titles, section names and status marks rather than layouts or dates, so that
the stories survive restyling; a change that breaks one is caught by ``tests/tui/test_walkthroughs.py``.
"""

from __future__ import annotations

from walkthroughs.steps import (
    SERVICE_LABELS,
    Caption,
    ClearFaults,
    Fault,
    KeyFrame,
    Pause,
    Press,
    RemoteEdit,
    Type,
    WaitFor,
    Walkthrough,
)

SYNCED = tuple(WaitFor(f"{label} ✓", timeout=60) for label in SERVICE_LABELS.values())
"""The status line once the first sync has finished on every service (they sync concurrently, so one
service's mark says nothing of the others': a story's edit must not race the start-up sync)."""

START = (
    Caption("pmtui demo: four local emulators with demo data; the app pulls all of them at start"),
    WaitFor("Briefing"),
    *SYNCED,
)

MORNING_BRIEFING = Walkthrough(
    name="morning-briefing",
    title="Morning briefing",
    summary="Open the demo, read the day across four services, open a task, snooze one to tomorrow.",
    steps=(
        *START,
        WaitFor("Top priorities"),
        Caption("Overdue, due today and the top priorities with their reasons, from all four services"),
        Pause(3),
        Press(("j", "j", "j")),
        Caption("enter opens a task: where it lives, its comments, the decisions pmtui logged about it"),
        Press(("enter",)),
        WaitFor("Lives on"),
        Pause(3),
        Press(("escape",)),
        WaitFor("Top priorities"),
        Caption("z snoozes the highlighted task to tomorrow, written to the service that holds it"),
        Press(("z",)),
        WaitFor("snooze to tomorrow"),
        KeyFrame(),
        Pause(3),
    ),
)

AGENT_REQUEST = Walkthrough(
    name="agent-request",
    title="A request from the agent prompt",
    summary="Type a request, read the plan (where it goes and why), run it, find the task on the board.",
    steps=(
        *START,
        Caption(": opens the agent prompt; a request in plain words"),
        Press(("colon",)),
        WaitFor("Ask pmtui"),
        Type("task Write the launch FAQ due fri #docs p2"),
        Press(("enter",)),
        WaitFor("Plan:"),
        WaitFor("Run it?"),
        Caption("The plan says where each action goes and why: the docs label routes it to Notion"),
        KeyFrame(),
        Pause(4),
        Caption("ctrl+y runs the plan shown (typing edits the request instead, and drops the plan)"),
        Press(("ctrl+y",)),
        WaitFor("created 'Write the launch FAQ'"),
        Caption("Done: created in Notion, with its link; the cache and the board have it already"),
        Pause(3),
        Press(("escape", "2")),
        WaitFor("Board"),
        Press(("slash",)),
        Type("launch FAQ"),
        Press(("enter",)),
        WaitFor("Write the launch FAQ"),
        Pause(3),
    ),
)

CONFLICT_RESOLVED = Walkthrough(
    name="conflict-resolved",
    title="A conflict resolved",
    summary=(
        "The same task is renamed differently in Linear and in Motion; the sync files a conflict instead "
        "of overwriting either; one key resolves it."
    ),
    steps=(
        *START,
        Caption("Meanwhile two people rename the same task: ENG-3 in Linear, and its twin in Motion"),
        RemoteEdit("linear", "ENG-3", {"title": "Fix login redirect loop on Safari"}, who="Sam"),
        RemoteEdit("motion", "Fix login redirect loop", {"name": "Fix SSO login redirect loop"}, who="Kim"),
        Pause(2),
        Caption("3 shows the sync status; S (on any screen) syncs every service now"),
        Press(("3",)),
        WaitFor("Sync ·"),
        Press(("S",)),
        WaitFor("4: resolve"),
        Caption("Linear's title came in first; Motion's differs from both: a conflict, nothing overwritten"),
        Pause(3),
        Press(("4",)),
        WaitFor("Conflicts ·"),
        WaitFor("remote (Motion)"),
        Caption("Base, local and remote side by side: L keeps local, R takes remote, e edits a merge"),
        KeyFrame(),
        Pause(4),
        Press(("L",)),
        WaitFor("pending:"),
        Caption("u would undo within 3 s; then the choice is written to Motion"),
        WaitFor("No open conflicts"),
        Pause(3),
    ),
)

SERVICE_DOWN = Walkthrough(
    name="service-down",
    title="A sync with one service down",
    summary=(
        "GitLab answers 503 to everything: pmtui retries, reports it, and syncs the other three; when "
        "GitLab is back, the next sync is clean."
    ),
    steps=(
        *START,
        Caption("GitLab goes down: from now on every request answers 503"),
        Fault("gitlab:error=503x*", why="GitLab goes down"),
        Press(("3",)),
        WaitFor("Sync ·"),
        Press(("S",)),
        Caption("S syncs all: pmtui retries GitLab with backoff while the other services sync on"),
        WaitFor("GitLab ✗", timeout=60),
        WaitFor("503"),
        Caption("GitLab failed with its reason; Motion, Linear and Notion synced; nothing was lost"),
        Pause(1.5),  # the history table redraws just after the toast: picture both
        KeyFrame(),
        Pause(3),
        ClearFaults("gitlab"),
        Caption("GitLab is back: S syncs again"),
        Press(("S",)),
        WaitFor("GitLab ✓", timeout=60),
        Pause(3),
    ),
)

WALKTHROUGHS: dict[str, Walkthrough] = {
    w.name: w for w in (MORNING_BRIEFING, AGENT_REQUEST, CONFLICT_RESOLVED, SERVICE_DOWN)
}
