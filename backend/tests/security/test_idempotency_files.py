"""SQLite's idempotency claims: a lock file per key, so one key's live claim never refuses another
key (a striped lock once answered a different key 409 "still running"), and stale files go."""

from __future__ import annotations

import os
import time

from payment_backend.services.claim_locks import FileLocks, purge_lock_files


def test_no_two_keys_share_a_lock(tmp_path):
    holders = [FileLocks(tmp_path) for _ in range(300)]
    try:
        # 300 live claims of different keys: with 4,096 stripes, two would likely have collided.
        assert all(h.try_lock("refund", f"key-{n}") for n, h in enumerate(holders))
        # The same key is refused while held, and free once released.
        other = FileLocks(tmp_path)
        assert not other.try_lock("refund", "key-7")
        holders[7].release()
        assert other.try_lock("refund", "key-7")
        other.release()
    finally:
        for holder in holders:
            holder.release()


def test_stale_lock_files_go_but_never_a_held_one(tmp_path):
    held, stale = FileLocks(tmp_path), FileLocks(tmp_path)
    assert held.try_lock("refund", "live") and stale.try_lock("refund", "old")
    stale.release()
    an_hour_ago = time.time() - 3600
    for path in tmp_path.glob("*/*.lock"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert purge_lock_files(tmp_path, older_than=60) == 1
    assert len(list(tmp_path.glob("*/*.lock"))) == 1
    # The live claim still holds, and its key is still refused to others.
    assert not FileLocks(tmp_path).try_lock("refund", "live")
    held.release()
