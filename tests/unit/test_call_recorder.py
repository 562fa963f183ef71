"""The AWS calls recorded in several processes (pytest-xdist workers) reach the least-privilege checks."""

from tests.helpers.iam import Call, CallRecorder


def test_calls_saved_by_each_worker_are_loaded_together_with_whether_the_whole_suite_ran(tmp_path):
    # Given two workers that recorded calls of the whole suite
    for worker, call in (("gw0", Call("MeFunction", "dynamodb:GetItem", "t")), ("gw1", Call("X", "sns:Publish", "*"))):
        recorder = CallRecorder()
        recorder.calls.add(call)
        recorder.save(str(tmp_path), worker, full_run=True)
    # When the least-privilege run loads them
    merged = CallRecorder()
    merged.load(str(tmp_path))
    # Then it sees the calls of both, and that the suite ran whole
    assert merged.calls == {Call("MeFunction", "dynamodb:GetItem", "t"), Call("X", "sns:Publish", "*")}
    assert [run["full_run"] for run in CallRecorder.saved_runs(str(tmp_path))] == [True, True]
    assert CallRecorder.saved_runs(str(tmp_path / "absent")) == CallRecorder.saved_runs(None) == []
