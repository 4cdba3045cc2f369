"""QDQ graph → integer layers → numpy reference → generated C, on small random-weight models:
the reference equals onnxruntime's INT8 output, and the C library (host compiler) equals the
reference bit for bit, windows and whole streams."""

import shutil
import subprocess

import numpy as np
import onnxruntime as ort
import pytest

from edgekd.errors import EdgekdError
from edgekd.signal import ChannelNormalizer, FilterSpec, PreprocessSpec, WindowSpec
from export.c import codegen, toolchain
from export.c.graph import read_qdq
from export.c.layers import inputs_of
from export.c.memory import plan_memory
from export.c.prep import plan_prep, stream_inputs
from export.c.reference import decide, quantize_input, run_network, softmax_table
from tests.unit.export_c.qmodels import N_CHANS, Zoo, quantized, student, windows

CASES = [("cnn_tiny", False), ("micro_cnn_tiny", False), ("micro_tcn_tiny", True),
         ("tcn_tiny", False), ("zoo", False), ("zoo", True)]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    import torch
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("qdq")
    return {(name, sym): quantized(Zoo().eval() if name == "zoo" else student(name),
                                   root / f"{name}-{sym}", sym) for name, sym in CASES}


@pytest.fixture(scope="module")
def cc():
    cc = toolchain.find_tools().host_cc
    if cc is None:
        pytest.skip("no C compiler (cc or gcc) on this machine")
    return cc


def _ort_q(path, x, model):
    out = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    t = model.tensors[model.output]
    return np.rint(out / t.scale).astype(np.int64) + t.zero_point


@pytest.mark.parametrize("name,sym", CASES)
def test_reference_equals_onnxruntime(artifacts, name, sym):
    model = read_qdq(artifacts[name, sym])
    assert model.act_dtype == ("int8" if sym else "uint8")
    x = windows(200, seed=2)
    ref = run_network(model, quantize_input(x, model.tensors[model.input], *model.act_range))
    got = _ort_q(artifacts[name, sym], x, model)
    # onnxruntime rounds in float32 where the reference is exact: a rare 1-step difference
    assert (ref == got).all(axis=1).mean() >= 0.99
    assert np.abs(ref - got).max() <= 1


@pytest.mark.parametrize("name,sym", CASES)
def test_memory_plan_never_overlaps_live_tensors(artifacts, name, sym):
    model = read_qdq(artifacts[name, sym])
    blocks = list(plan_memory(model).blocks.values())
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            alive = a.first <= b.last and b.first <= a.last
            apart = a.offset + a.size <= b.offset or b.offset + b.size <= a.offset
            assert apart or not alive, (a, b)
    assert all(n in {b.name for b in blocks} for layer in model.layers
               for n in inputs_of(layer))


def _spec():
    rng = np.random.default_rng(0)
    norm = ChannelNormalizer(rng.normal(0, 5, N_CHANS).astype(np.float32),
                             rng.uniform(20, 80, N_CHANS).astype(np.float32))
    return PreprocessSpec(200.0, N_CHANS, WindowSpec(52, 7), FilterSpec(), norm)


def _library(path, model, bits=16, float_filters=False, tmp=None):
    prep = plan_prep(_spec(), model.tensors[model.input], *model.act_range, bits, 1.0,
                     float_filters)
    info = codegen.LibraryInfo("test", [f"c{i}" for i in range(5)], 200.0, "test", "x.onnx",
                               "0" * 64, 7)
    codegen.generate(tmp, model, prep, info, FilterSpec().to_dict())
    return prep


def _counts(bits, n=700, seed=0):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 2 ** (bits - 8), (n, N_CHANS)), axis=0)
    return np.rint(x + rng.normal(0, 2 ** (bits - 5), x.shape)).clip(
        -2 ** (bits - 1), 2 ** (bits - 1) - 1).astype(np.int32)


@pytest.mark.parametrize("name,sym", CASES)
def test_c_library_equals_the_reference(artifacts, name, sym, cc, tmp_path):
    model = read_qdq(artifacts[name, sym])
    prep = _library(None, model, tmp=tmp_path / "lib")
    exe = toolchain.build_host(tmp_path / "lib", tmp_path / "build", cc)
    q_t = np.uint8 if model.act_dtype == "uint8" else np.int8
    table = softmax_table(model.tensors[model.output].scale)
    q = quantize_input(windows(64, seed=3), model.tensors[model.input], *model.act_range)
    got = toolchain.run_host(exe, "windows", q.astype(q_t))
    logits = run_network(model, q)
    labels, probs = decide(logits, table)
    assert np.array_equal(got.logits, logits) and np.array_equal(got.labels, labels)
    assert np.array_equal(got.probs, probs)
    counts = _counts(16)
    got = toolchain.run_host(exe, "stream", counts.astype(np.int16))   # uneven chunks
    ends, qw = stream_inputs(prep, counts)
    logits = run_network(model, qw)
    labels, probs = decide(logits, table)
    assert np.array_equal(got.ends, ends) and np.array_equal(got.logits, logits)
    assert np.array_equal(got.labels, labels) and np.array_equal(got.probs, probs)


@pytest.mark.parametrize("bits,float_filters", [(24, False), (12, True), (24, True)])
def test_c_preprocessing_modes_equal_the_reference(artifacts, bits, float_filters, cc,
                                                   tmp_path):
    model = read_qdq(artifacts["micro_cnn_tiny", False])
    prep = _library(None, model, bits, float_filters, tmp=tmp_path / "lib")
    exe = toolchain.build_host(tmp_path / "lib", tmp_path / "build", cc)
    counts = _counts(bits, seed=bits)
    counts[::97] = 2 ** bits                       # beyond the declared range: saturated
    got = toolchain.run_host(exe, "stream", counts.astype(np.int16 if bits <= 16
                                                          else np.int32))
    ends, qw = stream_inputs(prep, counts)
    assert np.array_equal(got.ends, ends)
    assert np.array_equal(got.logits, run_network(model, qw))


def test_push_refuses_a_small_output_buffer_and_consumes_nothing(artifacts, cc, tmp_path):
    model = read_qdq(artifacts["micro_cnn_tiny", False])
    _library(None, model, tmp=tmp_path / "lib")
    api = tmp_path / "api.c"
    api.write_text(API_CHECK)
    exe = tmp_path / "api"
    subprocess.run([cc, *toolchain.HOST_FLAGS, f"-I{tmp_path / 'lib'}", str(api),
                    str(tmp_path / "lib" / "edgekd.c"), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


API_CHECK = r"""
#include <stdio.h>
#include <string.h>
#include "edgekd.h"
static edgekd_sample_t s[100 * EDGEKD_N_CHANS];
int main(void) {
    edgekd_decision_t d[EDGEKD_MAX_DECISIONS(100)], e[EDGEKD_MAX_DECISIONS(100)];
    int32_t k, j;
    uint32_t i;
    for (i = 0; i < 100 * EDGEKD_N_CHANS; ++i) s[i] = (edgekd_sample_t)((i * 37) % 200 - 100);
    edgekd_init();
    if (edgekd_push(s, 0, d, 0) != 0) return 1;
    if (edgekd_push(s, 100, d, EDGEKD_MAX_DECISIONS(100) - 1) != -1) return 2;
    if (edgekd_push(0, 100, d, EDGEKD_MAX_DECISIONS(100)) != -1) return 3;
    k = edgekd_push(s, 100, d, EDGEKD_MAX_DECISIONS(100));  /* as if nothing came before */
    if (k != (100 - EDGEKD_WINDOW) / EDGEKD_HOP + 1) return 4;
    edgekd_init();                                           /* a fresh stream: same again */
    for (i = 0, j = 0; i < 100; ++i) j += edgekd_push(s + i * EDGEKD_N_CHANS, 1, e + j, 1);
    if (j != k) return 5;
    for (j = 0; j < k; ++j) {   /* field by field: struct padding is not compared */
        if (d[j].end_sample != e[j].end_sample || d[j].label != e[j].label ||
            memcmp(d[j].logits, e[j].logits, sizeof d[j].logits) ||
            memcmp(d[j].prob_q15, e[j].prob_q15, sizeof d[j].prob_q15)) return 6;
    }
    if (d[0].end_sample != EDGEKD_WINDOW - 1 || d[1].end_sample != EDGEKD_WINDOW - 1 + EDGEKD_HOP)
        return 7;
    printf("ok\n");
    return 0;
}
"""


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_recurrent_graphs_are_refused_naming_the_layer(op, tmp_path):
    path = _graph_with(op, tmp_path)
    with pytest.raises(EdgekdError, match=f"'rnn' \\({op}\\): recurrent layers have no C"):
        read_qdq(path)


def test_an_op_outside_the_integer_set_is_refused_by_name(tmp_path):
    with pytest.raises(EdgekdError, match="'rnn' \\(Sigmoid\\): not supported by the C export"):
        read_qdq(_graph_with("Sigmoid", tmp_path))


@pytest.mark.parametrize("name,layer", [("lstm_tiny", "LSTM"), ("gru_tiny", "GRU"),
                                        ("cnn_lstm_tiny", "LSTM")])
def test_recurrent_students_are_refused_before_any_work(name, layer):
    from export.c.pipeline import refuse_recurrent
    with pytest.raises(EdgekdError, match=f"its {layer} layer 'rnn' has no C implementation"):
        refuse_recurrent(student(name), name)


def _graph_with(op: str, tmp_path):
    """x → Q → DQ → op: the smallest graph that reaches the op."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, N_CHANS, 52])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [0.1]),
             helper.make_tensor("z", TensorProto.UINT8, [], [128])]
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
             helper.make_node(op, ["xd"], ["y"], name="rnn")]
    path = tmp_path / f"{op}.onnx"
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits)), str(path))
    return path


def test_arm_tools_state_why_they_are_missing(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    tools = toolchain.find_tools()
    assert tools.host_cc is None and tools.missing_arm() == [
        "arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"]


ROUNDING_CHECK = r"""
#include <stdio.h>
#include "edgekd.c"   /* the library's static helpers, in this translation unit */
int main(void) {
    long long acc, m;
    int n;
    while (scanf("%lld %lld %d", &acc, &m, &n) == 3) {
        int64_t p = (int64_t)acc * m;
        printf("%lld %d\n", (long long)ek_shift_round(p, n),
               (int)ek_requant((int32_t)acc, (int32_t)m, n, 3, -100000, 100000));
    }
    return 0;
}
"""


def test_c_rounding_equals_the_reference_at_ties(artifacts, cc, tmp_path):
    """The C library's two rounding paths (n < 32 and the tie-fixing n >= 32) against
    rne_shift, on random products and on exact ties."""
    from export.c.fixedpoint import requantize, rne_shift
    model = read_qdq(artifacts["micro_cnn_tiny", False])
    _library(None, model, tmp=tmp_path / "lib")
    (tmp_path / "check.c").write_text(ROUNDING_CHECK)
    exe = tmp_path / "check"
    subprocess.run([cc, *toolchain.HOST_FLAGS, "-Wno-unused-function", f"-I{tmp_path / 'lib'}",
                    str(tmp_path / "check.c"), "-o", str(exe)], check=True)
    rng = np.random.default_rng(7)
    n = rng.integers(1, 63, 3000)
    m = rng.integers(2 ** 30, 2 ** 31, 3000)
    acc = rng.integers(-2 ** 30, 2 ** 30, 3000)
    big = np.arange(3000) % 3 == 0                    # exact ties for 31 <= n <= 60 ...
    n[big] = rng.integers(31, 61, big.sum())
    m[big] = 2 ** 30
    acc[big] = (acc[big] >> (n[big] - 30) << (n[big] - 30)) + (np.int64(1) << (n[big] - 31))
    small = np.arange(3000) % 3 == 1                  # ... and for n <= 30 (odd acc)
    n[small] = rng.integers(1, 31, small.sum())
    m[small] = 2 ** 30 + (np.int64(1) << (n[small] - 1))
    acc[small] |= 1
    lines = "".join(f"{a} {b} {c}\n" for a, b, c in zip(acc, m, n))
    out = subprocess.run([str(exe)], input=lines, capture_output=True, text=True,
                         check=True).stdout.split()
    got = np.array(out, dtype=np.int64).reshape(-1, 2)
    assert np.array_equal(got[:, 0], rne_shift(acc * m, n))
    assert np.array_equal(got[:, 1], requantize(acc, m, n, 3, -100000, 100000))
    ties = ((acc * m) & ((np.int64(1) << n) - 1)) == (np.int64(1) << (n - 1))
    assert (ties & (n >= 32)).sum() > 500 and (ties & (n < 32)).sum() > 500


def test_every_student_is_covered_here():
    """A new student must be added to CASES (exported and checked) or to the refusals."""
    from edgekd.models import list_models
    tiny = {e.name for e in list_models("student") if e.name.endswith("_tiny")}
    refused = {"lstm_tiny", "gru_tiny", "cnn_lstm_tiny"}
    assert tiny == {name for name, _ in CASES if name != "zoo"} | refused
