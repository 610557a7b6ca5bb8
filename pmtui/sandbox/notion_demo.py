"""The Notion demo workspace's content: a documentation team's Tasks and Projects.

Plain data, kept out of ``notion.py`` so the emulator module holds behaviour only. Due dates are offsets in
days from the seeding day (negative: overdue; ``None``: no due date).
"""

from __future__ import annotations

DEMO_TAGS = ("docs", "api", "release", "onboarding", "website", "review", "video")

DEMO_PROJECTS = (("Docs sprint", "Active"), ("Q1 launch", "Active"), ("Website refresh", "Planned"))
"""(name, Status select option) of the Projects data source's pages."""

DemoTask = tuple[str, str, str, int | None, str, tuple[str, ...]]

# fmt: off
DEMO_TASKS: tuple[DemoTask, ...] = (
    # (title, project, status, due in days, priority, tags)
    ("Write onboarding guide", "Docs sprint", "In progress", 0, "High", ("docs", "onboarding")),
    ("Write API reference", "Docs sprint", "In progress", 2, "Urgent", ("docs", "api")),
    ("Release notes 1.4", "Q1 launch", "Not started", 5, "High", ("release", "docs")),
    ("Update installation instructions", "Docs sprint", "Done", -3, "Medium", ("docs",)),
    ("Review style guide", "Docs sprint", "Not started", -2, "Low", ("review",)),
    ("Document authentication flow", "Docs sprint", "Not started", 7, "High", ("docs", "api")),
    ("Record tutorial video script", "Q1 launch", "Not started", 12, "Medium", ("video",)),
    ("Migrate FAQ to new site", "Website refresh", "Not started", None, "Low", ("website",)),
    ("Proofread changelog", "Q1 launch", "Done", -5, "Medium", ("release", "review")),
    ("Add code samples for webhooks", "Docs sprint", "In progress", -1, "High", ("api",)),
    ("Write troubleshooting page", "Docs sprint", "Not started", 3, "Medium", ("docs",)),
    ("Refresh screenshots of settings pages", "Website refresh", "Not started", 20, "Low", ("website",)),
    ("Glossary of terms", "Docs sprint", "Not started", None, "Low", ("docs",)),
    ("Document rate limits", "Docs sprint", "Not started", 1, "High", ("api",)),
    ("Release notes 1.3", "Q1 launch", "Done", -20, "Medium", ("release",)),
    ("Translate quickstart to German", "Q1 launch", "Not started", 30, "Low", ("docs", "onboarding")),
    ("Write CLI reference", "Docs sprint", "In progress", 4, "High", ("docs",)),
    ("Fix broken links in docs", "Website refresh", "Not started", 0, "Urgent", ("website", "docs")),
    ("Write migration guide from 1.x", "Q1 launch", "Not started", 9, "High", ("docs", "release")),
    ("Draft launch blog post", "Q1 launch", "In progress", 6, "Medium", ("release",)),
    ("Review API reference with engineering", "Docs sprint", "Not started", 8, "Medium", ("review", "api")),
    ("Document keyboard shortcuts", "Docs sprint", "Not started", None, "Low", ("docs",)),
    ("Set up docs search indexing", "Website refresh", "Not started", 14, "Medium", ("website",)),
    ("Write security overview", "Q1 launch", "Not started", -4, "Urgent", ("docs",)),
    ("Update README badges", "Website refresh", "Done", -10, "Low", ("website",)),
    ("Write contribution guide", "Docs sprint", "Not started", 2, "Medium", ("docs",)),
    ("Document configuration options", "Docs sprint", "In progress", 1, "High", ("docs",)),
    ("Prepare release checklist", "Q1 launch", "Not started", 3, "High", ("release",)),
    ("Write accessibility notes", "Website refresh", "Not started", None, "Low", ("website", "docs")),
    ("Archive outdated tutorials", "Website refresh", "Done", -7, "Low", ("docs",)),
)
# fmt: on

DEMO_DESCRIPTIONS: dict[str, str] = {
    "Write onboarding guide": "Cover sign-up, the first project and inviting teammates. "
    "Link the quickstart at the end.",
    "Write API reference": "Generate the endpoint list from the OpenAPI file. "
    "Hand-write the authentication section.",
    "Release notes 1.4": "Collect merged changes since 1.3. Call out the breaking change in exports.",
    "Document authentication flow": "Explain tokens, scopes and rotation.",
    "Add code samples for webhooks": "Python and TypeScript samples. Show signature verification.",
    "Write migration guide from 1.x": "Map every removed option to its replacement.",
}
"""Description (rich_text) of some tasks; each sentence is also stored as a paragraph block of the page."""

DEMO_COMMENTS: tuple[tuple[str, int, str, int], ...] = (
    # (task title, author index among the people, text, hours ago)
    ("Write onboarding guide", 0, "First draft is in; screenshots still missing.", 20),
    ("Write onboarding guide", 1, "Can we add a section on SSO?", 6),
    ("Write API reference", 2, "Engineering will review on Thursday.", 30),
    ("Release notes 1.4", 0, "Waiting for the final merge list.", 4),
    ("Add code samples for webhooks", 1, "Samples should use the new SDK.", 50),
)
