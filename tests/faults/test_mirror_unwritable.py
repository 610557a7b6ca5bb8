"""An unwritable mirror target: the mirror fails with a message naming the target, the failure is
recorded for the sync health screens, the cache is untouched, and once the target is writable the next
run mirrors every row (watermarks did not move past rows that were never written)."""

from __future__ import annotations

from pathlib import Path

from pmtui.core.mirror import mirror_after_sync
from pmtui.core.sync import attention_notices
from tests.faults.conftest import World


def test_unwritable_target_fails_cleanly_and_recovers(world: World, tmp_path: Path) -> None:
    store = world.engine.store
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("the mirror wants a folder here")
    target = blocked / "mirror"
    base = world.engine.settings.mirror.model_copy(update={"enabled": True, "target": str(target)})
    settings = world.engine.settings.model_copy(update={"mirror": base})
    tasks = store.count_tasks()
    watermarks = store._rows("SELECT * FROM mirror_watermarks ORDER BY table_name")

    failed = mirror_after_sync(store, settings)
    assert failed is not None
    assert not failed.ok
    assert str(blocked) in (failed.error_text() or "") or "mirror" in (failed.error_text() or "")
    assert store.count_tasks() == tasks
    assert store._rows("SELECT * FROM mirror_watermarks ORDER BY table_name") == watermarks
    assert [n.what for n in attention_notices(store)] == ["mirror failing (retried at each sync)"]
    assert blocked.read_text() == "the mirror wants a folder here"

    writable = tmp_path / "mirror"
    fixed = settings.model_copy(update={"mirror": base.model_copy(update={"target": str(writable)})})
    report = mirror_after_sync(store, fixed)
    assert report is not None
    assert report.ok, report.error_text()
    from deltalake import DeltaTable

    # Through a dataset: DeltaTable.to_pyarrow_table() can abort the interpreter at exit (STACK.md).
    mirrored = DeltaTable(str(writable / "tasks")).to_pyarrow_dataset().count_rows()
    assert mirrored == store._rows("SELECT count(*) FROM tasks")[0][0]
    assert attention_notices(store) == []
