"""Webhook verification tables and the receiver over real HTTP on 127.0.0.1, on a fixed clock."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest

from pmtui.integrations.webhooks import (
    GITLAB_PATH,
    LINEAR_PATH,
    MAX_BODY_BYTES,
    RecentIds,
    SyncRequest,
    WebhookReceiver,
    WebhookRejected,
    closing_issue_iids,
    verify_gitlab,
    verify_linear,
)
from pmtui.models import Service

SECRET = "lin_wh_secret_for_tests"
TOKEN = "gitlab-token-for-tests"
NOW = 1_700_000_000.0
NOW_MS = NOW * 1000
ISSUE_ID = "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9"


def linear_body(**fields: Any) -> bytes:
    payload: dict[str, Any] = {
        "action": "update",
        "type": "Issue",
        "data": {"id": ISSUE_ID, "title": "Fix login"},
        "updatedFrom": {"title": "Fix logn"},
        "webhookTimestamp": NOW_MS,
    }
    payload.update(fields)
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def linear_headers(body: bytes, delivery: str = "d-1", **extra: str) -> dict[str, str]:
    return {"Linear-Signature": sign(body), "Linear-Event": "Issue", "Linear-Delivery": delivery, **extra}


def gitlab_issue(iid: int = 7, *, global_id: int = 901, project_id: int = 42) -> dict[str, Any]:
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "project": {"id": project_id, "path_with_namespace": "acme/app"},
        "object_attributes": {
            "id": global_id,
            "iid": iid,
            "project_id": project_id,
            "action": "update",
            "updated_at": "2024-05-01 10:00:00 UTC",
        },
    }


def gitlab_note(*, noteable_type: str = "Issue", iid: int = 7) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "object_kind": "note",
        "project": {"id": 42, "path_with_namespace": "acme/app"},
        "object_attributes": {"id": 55, "note": "looks good", "noteable_type": noteable_type},
    }
    if noteable_type == "Issue":
        payload["issue"] = {"id": 901, "iid": iid}
    else:
        payload["merge_request"] = {"id": 77, "iid": 3}
    return payload


def gitlab_mr(description: str) -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "project": {"id": 42, "path_with_namespace": "acme/app"},
        "object_attributes": {"id": 77, "iid": 3, "action": "merge", "description": description},
    }


def gitlab_headers(
    token: str | None = TOKEN, event: str = "Issue Hook", uuid: str = "u-1", **extra: str
) -> dict[str, str]:
    headers = {"X-Gitlab-Event": event, "X-Gitlab-Webhook-UUID": uuid, **extra}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    return headers


# --- verify_linear ---------------------------------------------------------------------------------

TAMPERED = linear_body(data={"id": ISSUE_ID, "title": "Fix login", "priority": 1})

# Each case's headers are laid over a correct signature of its body; None removes a header.
LINEAR_CASES: list[tuple[str, bytes, Mapping[str, str | None], int | None]] = [
    ("good", linear_body(), linear_headers(linear_body()), None),
    (
        "header names in any case",
        linear_body(),
        {"Linear-Signature": None, "LINEAR-SIGNATURE": sign(linear_body()), "linear-delivery": "d-1"},
        None,
    ),
    ("signature in upper-case hex", linear_body(), {"Linear-Signature": sign(linear_body()).upper()}, None),
    ("wrong secret", linear_body(), {"Linear-Signature": sign(linear_body(), "other-secret")}, 401),
    ("signature of a different body (tampered)", TAMPERED, linear_headers(linear_body()), 401),
    ("missing signature header", linear_body(), {"Linear-Signature": None, "Linear-Delivery": "d-1"}, 401),
    ("empty signature header", linear_body(), {"Linear-Signature": ""}, 401),
    ("signature not hex", linear_body(), {"Linear-Signature": "zz" * 32}, 401),
    ("truncated signature", linear_body(), {"Linear-Signature": sign(linear_body())[:32]}, 401),
    ("61 s old", linear_body(webhookTimestamp=NOW_MS - 61_000), {}, 400),
    ("61 s in the future", linear_body(webhookTimestamp=NOW_MS + 61_000), {}, 400),
    ("59 s old", linear_body(webhookTimestamp=NOW_MS - 59_000), {}, None),
    ("59 s in the future", linear_body(webhookTimestamp=NOW_MS + 59_000), {}, None),
    ("exactly 60 s old", linear_body(webhookTimestamp=NOW_MS - 60_000), {}, None),
    ("timestamp in seconds, not ms", linear_body(webhookTimestamp=NOW), {}, 400),
    ("timestamp not a number", linear_body(webhookTimestamp="1700000000000"), {}, 400),
    ("timestamp a boolean", linear_body(webhookTimestamp=True), {}, 400),
    ("timestamp too large for a float", linear_body(webhookTimestamp=10**400), {}, 400),
    ("deeply nested JSON", b"[" * 100_000 + b"]" * 100_000, {}, 400),
    ("no timestamp anywhere", linear_body(webhookTimestamp=None), {}, 400),
    (
        "header timestamp used when the body has none",
        linear_body(webhookTimestamp=None),
        {"Linear-Timestamp": str(int(NOW_MS - 10_000))},
        None,
    ),
    (
        "stale header timestamp when the body has none",
        linear_body(webhookTimestamp=None),
        {"Linear-Timestamp": str(int(NOW_MS - 61_000))},
        400,
    ),
    (
        "header timestamp not a number",
        linear_body(webhookTimestamp=None),
        {"Linear-Timestamp": "soon"},
        400,
    ),
    (
        "replay: stale signed body with a fresh header",
        linear_body(webhookTimestamp=NOW_MS - 3_600_000),
        {"Linear-Timestamp": str(int(NOW_MS))},
        400,
    ),
    (
        "fresh signed body wins over a stale header",
        linear_body(),
        {"Linear-Timestamp": str(int(NOW_MS - 3_600_000))},
        None,
    ),
    ("malformed JSON", b'{"type": "Issue", ', {}, 400),
    ("JSON but not an object", b"[1, 2, 3]", {}, 400),
    ("not UTF-8", b"\xff\xfe{}", {}, 400),
]


@pytest.mark.parametrize(
    ("body", "overrides", "status"),
    [pytest.param(body, overrides, status, id=name) for name, body, overrides, status in LINEAR_CASES],
)
def test_verify_linear(body: bytes, overrides: Mapping[str, str | None], status: int | None) -> None:
    merged = {"Linear-Signature": sign(body), **overrides}
    headers = {name: value for name, value in merged.items() if value is not None}
    if status is None:
        delivery = verify_linear(body, headers, SECRET, now=NOW)
        assert delivery.event == "Issue"
    else:
        with pytest.raises(WebhookRejected) as caught:
            verify_linear(body, headers, SECRET, now=NOW)
        assert caught.value.status == status


def test_verify_linear_refuses_an_empty_secret() -> None:
    body = linear_body()
    with pytest.raises(WebhookRejected) as caught:
        verify_linear(body, {"Linear-Signature": sign(body, "")}, "", now=NOW)
    assert caught.value.status == 401


def test_verify_linear_reports_delivery_fields() -> None:
    body = linear_body(action="create")
    delivery = verify_linear(body, linear_headers(body, delivery="abc-123"), SECRET, now=NOW)
    assert delivery.delivery_id == "abc-123"
    assert delivery.action == "create"
    assert delivery.timestamp_ms == NOW_MS
    assert delivery.requests == (SyncRequest(Service.LINEAR, "task", ISSUE_ID, "abc-123"),)


@pytest.mark.parametrize(
    ("entity", "action", "data", "expected"),
    [
        pytest.param("Issue", "update", {"id": "i-1"}, [("task", "i-1")], id="issue update"),
        pytest.param("Issue", "create", {"id": "i-1"}, [("task", "i-1")], id="issue create"),
        pytest.param("Issue", "remove", {"id": "i-1"}, [("task", "i-1")], id="issue remove"),
        pytest.param(
            "Comment", "create", {"id": "c-1", "issueId": "i-1"}, [("task", "i-1")], id="comment -> its issue"
        ),
        pytest.param(
            "Comment",
            "update",
            {"id": "c-1", "issue": {"id": "i-2"}},
            [("task", "i-2")],
            id="comment with a nested issue",
        ),
        pytest.param("Comment", "create", {"id": "c-1", "projectId": "p-1"}, [], id="project comment"),
        pytest.param("Project", "update", {"id": "p-1"}, [("project", "p-1")], id="project"),
        pytest.param("IssueLabel", "create", {"id": "l-1"}, [], id="other entity"),
    ],
)
def test_linear_payload_to_requests(
    entity: str, action: str, data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    body = linear_body(type=entity, action=action, data=data)
    delivery = verify_linear(body, linear_headers(body), SECRET, now=NOW)
    assert [(r.kind, r.external_id) for r in delivery.requests] == expected
    assert all(r.service is Service.LINEAR and r.delivery_id == "d-1" for r in delivery.requests)


def test_linear_issue_without_id_is_malformed() -> None:
    body = linear_body(data={"title": "no id"})
    with pytest.raises(WebhookRejected) as caught:
        verify_linear(body, linear_headers(body), SECRET, now=NOW)
    assert caught.value.status == 400


# --- verify_gitlab ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param(gitlab_headers(), None, id="right token"),
        pytest.param({"x-gitlab-token": TOKEN, "x-gitlab-event": "Issue Hook"}, None, id="lower-case names"),
        pytest.param(gitlab_headers(token="wrong"), 401, id="wrong token"),
        pytest.param(gitlab_headers(token=TOKEN + " "), 401, id="token compared verbatim"),
        pytest.param(gitlab_headers(token=TOKEN.upper()), 401, id="token is case-sensitive"),
        pytest.param(gitlab_headers(token=""), 401, id="empty token header"),
        pytest.param(gitlab_headers(token=None), 401, id="missing token header"),
        pytest.param(gitlab_headers(token="t\u00f6ken"), 401, id="non-ASCII token header"),
    ],
)
def test_verify_gitlab_token(headers: dict[str, str], status: int | None) -> None:
    body = json.dumps(gitlab_issue()).encode()
    if status is None:
        assert verify_gitlab(body, headers, TOKEN).requests == (
            SyncRequest(Service.GITLAB, "task", "7", headers.get("X-Gitlab-Webhook-UUID")),
        )
    else:
        with pytest.raises(WebhookRejected) as caught:
            verify_gitlab(body, headers, TOKEN)
        assert caught.value.status == status


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed JSON"),
        pytest.param(b'"issue"', id="JSON string"),
        pytest.param(
            json.dumps({"object_kind": "issue", "object_attributes": {}}).encode(), id="issue no iid"
        ),
        pytest.param(
            json.dumps({"object_kind": "issue", "object_attributes": {"iid": True}}).encode(),
            id="issue iid a boolean",
        ),
    ],
)
def test_verify_gitlab_malformed(body: bytes) -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_gitlab(body, gitlab_headers(), TOKEN)
    assert caught.value.status == 400


def test_verify_gitlab_refuses_an_empty_token() -> None:
    with pytest.raises(WebhookRejected) as caught:
        verify_gitlab(json.dumps(gitlab_issue()).encode(), gitlab_headers(token=""), "")
    assert caught.value.status == 401


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(gitlab_issue(iid=7, global_id=901), [("task", "7")], id="issue hook -> iid, not id"),
        pytest.param(gitlab_note(iid=12), [("task", "12")], id="note on an issue -> the issue"),
        pytest.param(gitlab_note(noteable_type="MergeRequest"), [], id="note on a merge request"),
        pytest.param(
            gitlab_mr("Closes #3 and #4, fixes #9. See also #11 and other/proj#5"),
            [("merge_request", "3"), ("merge_request", "4"), ("merge_request", "9")],
            id="merge request -> the issues it closes",
        ),
        pytest.param(gitlab_mr("Just a refactor"), [], id="merge request closing nothing"),
        pytest.param({"object_kind": "push", "ref": "refs/heads/main"}, [], id="push hook"),
    ],
)
def test_gitlab_payload_to_requests(payload: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    delivery = verify_gitlab(json.dumps(payload).encode(), gitlab_headers(), TOKEN)
    assert [(r.kind, r.external_id) for r in delivery.requests] == expected
    assert all(r.service is Service.GITLAB for r in delivery.requests)


def test_gitlab_idempotency_key_is_the_delivery_id_when_present() -> None:
    body = json.dumps(gitlab_issue()).encode()
    with_key = verify_gitlab(body, gitlab_headers(uuid="u-9", **{"Idempotency-Key": "k-1"}), TOKEN)
    without = verify_gitlab(body, gitlab_headers(uuid="u-9"), TOKEN)
    assert (with_key.delivery_id, without.delivery_id) == ("k-1", "u-9")
    assert with_key.requests[0].delivery_id == "k-1"


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        pytest.param(None, 1, id="no filter"),
        pytest.param("42", 1, id="same project id"),
        pytest.param("Acme/App", 1, id="same path, any case"),
        pytest.param("43", 0, id="other project id"),
        pytest.param("acme/other", 0, id="other path"),
    ],
)
def test_gitlab_project_filter(project: str | None, expected: int) -> None:
    body = json.dumps(gitlab_issue(project_id=42)).encode()
    assert len(verify_gitlab(body, gitlab_headers(), TOKEN, project=project).requests) == expected


@pytest.mark.parametrize(
    ("description", "iids"),
    [
        ("Closes #12", ["12"]),
        ("closes: #12", ["12"]),
        ("Fixes #1, #2 and #3", ["1", "2", "3"]),
        ("Resolves issue #4", ["4"]),
        ("Implements #5\n\nCloses #5", ["5"]),
        ("Related to #6", []),
        ("Closes group/proj#7", []),
        ("Closes !8 (a merge request)", []),
        ("", []),
    ],
)
def test_closing_issue_iids(description: str, iids: list[str]) -> None:
    assert closing_issue_iids(description) == iids


def test_recent_ids_forget_the_oldest() -> None:
    seen = RecentIds(capacity=2)
    assert [seen.add("a"), seen.add("b"), seen.add("a"), seen.add("c")] == [True, True, False, True]
    assert len(seen) == 2
    assert seen.add("b") is True  # "b" was the oldest once "a" was seen again, so "c" pushed it out
    assert seen.add("c") is False


# --- WebhookReceiver over HTTP ---------------------------------------------------------------------


@pytest.fixture
def calls() -> list[SyncRequest]:
    return []


@pytest.fixture
def receiver(calls: list[SyncRequest]) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(
        calls.append, linear_secret=SECRET, gitlab_token=TOKEN, clock=lambda: NOW
    ) as running:
        yield running


@pytest.fixture
def http(receiver: WebhookReceiver) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=receiver.url, timeout=5) as client:
        yield client


def test_receiver_listens_on_loopback(receiver: WebhookReceiver) -> None:
    assert receiver.url.startswith("http://127.0.0.1:")
    assert not receiver.url.endswith(":0")


def test_valid_linear_delivery_calls_back_once(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = linear_body()
    answer = http.post(LINEAR_PATH, content=body, headers=linear_headers(body, delivery="d-7"))
    assert answer.status_code == 200
    assert calls == [SyncRequest(Service.LINEAR, "task", ISSUE_ID, "d-7")]


def test_same_delivery_twice_calls_back_once(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = linear_body()
    first = http.post(LINEAR_PATH, content=body, headers=linear_headers(body, delivery="d-1"))
    second = http.post(LINEAR_PATH, content=body, headers=linear_headers(body, delivery="d-1"))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"status": "duplicate"}
    assert len(calls) == 1


def test_forged_linear_delivery_is_401_and_calls_nothing(
    http: httpx.Client, calls: list[SyncRequest]
) -> None:
    body = linear_body()
    headers = linear_headers(body) | {"Linear-Signature": sign(body, "guessed")}
    assert http.post(LINEAR_PATH, content=body, headers=headers).status_code == 401
    assert calls == []


def test_forged_delivery_does_not_burn_the_real_delivery_id(
    http: httpx.Client, calls: list[SyncRequest]
) -> None:
    body = linear_body()
    forged = linear_headers(body, delivery="d-1") | {"Linear-Signature": sign(body, "guessed")}
    assert http.post(LINEAR_PATH, content=body, headers=forged).status_code == 401
    assert (
        http.post(LINEAR_PATH, content=body, headers=linear_headers(body, delivery="d-1")).status_code == 200
    )
    assert len(calls) == 1


def test_stale_linear_delivery_is_400_and_calls_nothing(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = linear_body(webhookTimestamp=NOW_MS - 61_000)
    assert http.post(LINEAR_PATH, content=body, headers=linear_headers(body)).status_code == 400
    assert calls == []


def test_malformed_linear_body_is_400(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = b"{oops"
    assert http.post(LINEAR_PATH, content=body, headers=linear_headers(body)).status_code == 400
    assert calls == []


def test_gitlab_issue_hook(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = json.dumps(gitlab_issue(iid=7)).encode()
    answer = http.post(GITLAB_PATH, content=body, headers=gitlab_headers(**{"Idempotency-Key": "k-1"}))
    assert answer.status_code == 200
    assert calls == [SyncRequest(Service.GITLAB, "task", "7", "k-1")]


def test_gitlab_note_hook(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = json.dumps(gitlab_note(iid=12)).encode()
    assert http.post(GITLAB_PATH, content=body, headers=gitlab_headers(event="Note Hook")).status_code == 200
    assert calls == [SyncRequest(Service.GITLAB, "task", "12", "u-1")]


def test_gitlab_retry_with_the_same_idempotency_key_calls_back_once(
    http: httpx.Client, calls: list[SyncRequest]
) -> None:
    body = json.dumps(gitlab_issue()).encode()
    for uuid in ("u-1", "u-2"):
        headers = gitlab_headers(uuid=uuid, **{"Idempotency-Key": "k-1"})
        assert http.post(GITLAB_PATH, content=body, headers=headers).status_code == 200
    assert len(calls) == 1


def test_gitlab_close_firing_two_hooks_reaches_the_callback_twice(
    http: httpx.Client, calls: list[SyncRequest]
) -> None:
    # Two distinct deliveries for one close: dedupe cannot merge them, the sync must be idempotent.
    body = json.dumps(gitlab_issue()).encode()
    for uuid in ("u-close", "u-update"):
        assert http.post(GITLAB_PATH, content=body, headers=gitlab_headers(uuid=uuid)).status_code == 200
    assert [c.external_id for c in calls] == ["7", "7"]


def test_gitlab_wrong_token_is_401(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = json.dumps(gitlab_issue()).encode()
    assert http.post(GITLAB_PATH, content=body, headers=gitlab_headers(token="nope")).status_code == 401
    assert calls == []


def test_ignored_event_is_200_without_a_call(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = json.dumps({"object_kind": "push"}).encode()
    answer = http.post(GITLAB_PATH, content=body, headers=gitlab_headers(event="Push Hook"))
    assert answer.json() == {"status": "ignored"}
    assert calls == []


def test_unknown_path_is_404(http: httpx.Client, calls: list[SyncRequest]) -> None:
    assert http.post("/webhooks/notion", content=b"{}").status_code == 404
    assert http.get("/").status_code == 404
    assert calls == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_non_post_is_405(http: httpx.Client, method: str) -> None:
    answer = http.request(method, LINEAR_PATH)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


def test_body_over_the_limit_is_413(http: httpx.Client, calls: list[SyncRequest]) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    assert http.post(LINEAR_PATH, content=body, headers=linear_headers(body)).status_code == 413
    assert calls == []


def test_service_without_a_secret_has_no_endpoint(calls: list[SyncRequest]) -> None:
    with WebhookReceiver(calls.append, gitlab_token=TOKEN, clock=lambda: NOW) as only_gitlab:
        body = linear_body()
        answer = httpx.post(only_gitlab.url + LINEAR_PATH, content=body, headers=linear_headers(body))
    assert answer.status_code == 404
    assert calls == []


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        WebhookReceiver(lambda _request: None, linear_secret="")


def test_failing_callback_is_500_and_the_retry_gets_through() -> None:
    seen: list[SyncRequest] = []

    def flaky(request: SyncRequest) -> None:
        seen.append(request)
        if len(seen) == 1:
            raise RuntimeError("queue full")

    body = linear_body()
    with WebhookReceiver(flaky, linear_secret=SECRET, clock=lambda: NOW) as running:
        first = httpx.post(running.url + LINEAR_PATH, content=body, headers=linear_headers(body))
        retry = httpx.post(running.url + LINEAR_PATH, content=body, headers=linear_headers(body))
    assert (first.status_code, retry.status_code) == (500, 200)
    assert len(seen) == 2


def test_logs_never_hold_the_secret_or_the_signature(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pmtui.webhooks")
    body = linear_body()
    good = linear_headers(body, delivery="d-log")
    forged = linear_headers(body, delivery="d-forged") | {"Linear-Signature": sign(body, "guessed")}
    http.post(LINEAR_PATH, content=body, headers=good)
    http.post(LINEAR_PATH, content=body, headers=forged)
    http.post(GITLAB_PATH, content=b"{}", headers=gitlab_headers(token="wrong-token-value"))
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    for secret in (SECRET, TOKEN, "wrong-token-value", good["Linear-Signature"], forged["Linear-Signature"]):
        assert secret not in text
    assert "d-forged" in text
    assert "does not match" in text


def test_url_before_start_and_stop_twice() -> None:
    receiver = WebhookReceiver(lambda _request: None, linear_secret=SECRET)
    with pytest.raises(RuntimeError):
        _ = receiver.url
    receiver.start()
    receiver.stop()
    receiver.stop()
    assert "lin_wh" not in repr(receiver)


def test_chunked_body_without_length_is_411(http: httpx.Client, calls: list[SyncRequest]) -> None:
    answer = http.post(LINEAR_PATH, content=iter([linear_body()]), headers={"Linear-Signature": "00"})
    assert answer.status_code == 411
    assert calls == []
