"""bench/common.py: result appending, table formatting, child-process measurement (fast, no models)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import common


def test_markdown_table_formats_numbers_and_escapes_cells():
    table = common.markdown_table(["method", "tok/s", "ratio"],
                                  [["a|b", 1234.5, None], ["c", 3.14159, 2]])
    assert table.splitlines() == [
        "| method | tok/s | ratio |",
        "|---|---:|---:|",
        "| a\\|b | 1,234 | — |",
        "| c | 3.14 | 2 |",
    ]


def test_markdown_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="2 cells, expected 3"):
        common.markdown_table(["a", "b", "c"], [[1, 2]])


def test_append_results_creates_then_appends_dated_sections(tmp_path):
    path = tmp_path / "RESULTS.md"
    info = {**common.machine_info(), "date": "2030-01-02 03:04 UTC", "load_average": (0.5, 0.25, 0.0)}
    common.append_results("First", "| a |\n|---|\n| 1 |", "note one", path=path, info=info)
    common.append_results("Second", "| b |\n|---|\n| 2 |", "", path=path, info=info)
    text = path.read_text()
    assert text.startswith("# Benchmark results\n")
    assert text.index("## First") < text.index("note one") < text.index("## Second")
    assert text.count("2030-01-02 03:04 UTC — ") == 2
    assert "load average 0.50, 0.25, 0.00" in text
    assert text.endswith("| 2 |\n")


def test_machine_line_names_versions_and_cores():
    info = common.machine_info()
    line = common.machine_line(info)
    assert f"{info['cores']} cores" in line and f"torch {info['torch']}" in line
    assert info["torch"] != "absent" and info["ram_gib"] > 0


def test_percentile_interpolates():
    assert common.percentile([4, 1, 3, 2], 50) == 2.5
    assert common.percentile([1, 2, 3, 4, 5], 95) == pytest.approx(4.8)
    assert common.percentile([7], 95) == 7


def test_run_child_reports_exit_code_output_and_peak_rss():
    # The child allocates ~200 MiB and touches it; its own peak must show it. No upper bound: on Linux
    # a forked child's peak includes the parent's pages until exec, and under pytest the parent may hold
    # torch (the bench runner itself never imports it, so its children's peaks are their own).
    code = "b = bytearray(200 * 1024 * 1024); print('done'); raise SystemExit(3)"
    result = common.run_child([sys.executable, "-c", code])
    assert result.returncode == 3 and result.output.strip() == "done"
    assert result.peak_rss_mib >= 200
    assert result.wall_s > 0


def test_run_child_times_out():
    with pytest.raises(TimeoutError):
        common.run_child([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_run_worker_returns_the_json_the_worker_wrote(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text("import json, sys\nout = sys.argv[sys.argv.index('--worker-out') + 1]\n"
                      "open(out, 'w').write(json.dumps({'x': sys.argv[-1]}))\n")
    result, child = common.run_worker(script, ["hello"])
    assert result == {"x": "hello"} and child.returncode == 0
    script.write_text("raise SystemExit('boom')\n")
    with pytest.raises(RuntimeError, match="boom"):
        common.run_worker(script, [])


def test_bench_floor_counts_the_embedded_models_parameters_and_takes_the_slower_of_arithmetic_and_reads():
    import bench_floor

    from socratic.backends.embedded import embedded_model_dir

    shape = bench_floor.Shape.of(Path(embedded_model_dir()), bytes_per_value=4)
    # SmolLM2-135M: 134,515,008 parameters, the embedding tied to the LM head; the final norm (576) is left out.
    assert shape.body + shape.head + shape.hidden == 134_515_008
    assert (shape.layers, shape.kv_width) == (30, 192)

    tiny = bench_floor.Shape(layers=1, hidden=1, kv_width=1, body=1, head=0, bytes_per_value=1)
    work = bench_floor.Work()
    # One prompt of 2 tokens (2 x 1 x 2 + 2 x 1 x 1 x 4 = 12 FLOP), then 2 decode steps of one row.
    bench_floor.decode_batch(work, tiny, [bench_floor.Row(prompt=2, new=2)], [(2, 0)], {"flops": 1.0, "bytes": 1.0})
    assert (work.prefill_tokens, work.new_tokens) == (2, 2)
    decode = (2 + 4 * 2) + (2 + 4 * 3)  # 2 x parameters + attention over 2, then 3 tokens
    reads = (1 + 2 * 2) + (1 + 2 * 3)  # the weights, then keys and values of 2, then 3 tokens
    assert work.flop == 12 + decode and work.bytes_read == reads
    assert work.floor_s == 12 + max(decode, reads)
    slow_memory = bench_floor.Work()
    bench_floor.decode_batch(slow_memory, tiny, [bench_floor.Row(2, 2)], [(2, 0)], {"flops": 1.0, "bytes": 0.1})
    assert slow_memory.floor_s == pytest.approx(12 + reads / 0.1)


def test_bench_eval_batching_orders_hold_the_same_items_in_other_calls():
    import bench_eval_batching as bench

    assert bench.parse_datasets("mathdial:40,debugging") == {"mathdial": 40, "debugging": 100}
    test_sets = {"a": ["xxxx", "x", "xxx"], "b": ["xx", "xxxxx"]}
    render = lambda text: [{"role": "user", "content": text}]
    batches = {order: bench.batches_in(order, test_sets, 2, render) for order in bench.ORDERS}
    assert batches["dataset"] == [[("a", "xxxx"), ("a", "x")], [("a", "xxx")], [("b", "xx"), ("b", "xxxxx")]]
    assert batches["per-set"] == [[("a", "x"), ("a", "xxx")], [("a", "xxxx")], [("b", "xx"), ("b", "xxxxx")]]
    assert batches["across"] == [[("a", "x"), ("b", "xx")], [("a", "xxx"), ("a", "xxxx")], [("b", "xxxxx")]]
