"""Per-shard checkpoints in Lamb's SQLite (lamb.sources.checkpoints)."""

from lamb.sources.checkpoints import CheckpointStore, LaneState, Position, ShardCheckpoint
from lamb.store.db import Database


def test_round_trip_upsert_and_reopen(tmp_path):
    db = Database(tmp_path / "lamb.db")
    store = CheckpointStore(db)
    cp = ShardCheckpoint(Position("LATEST", timestamp=1700000000.5), "42", 2,
                         {0: LaneState("40"), 1: LaneState("42", 1699999980.0, {"n": 3})})
    store.save("m", {"s0": cp, "s1": ShardCheckpoint(Position("TRIM_HORIZON"))})
    store.save("m", {"s1": ShardCheckpoint(Position("TRIM_HORIZON"), "7", finished=True)})
    store.save("other", {"s0": ShardCheckpoint(Position("AT_TIMESTAMP", timestamp=5.0))})
    db.close()

    store = CheckpointStore(Database(tmp_path / "lamb.db"))
    got = store.load("m")
    assert got["s0"] == cp
    assert got["s1"].sequence == "7" and got["s1"].finished
    store.delete("m")
    assert store.load("m") == {} and store.load("other")["s0"].start == Position("AT_TIMESTAMP", timestamp=5.0)
