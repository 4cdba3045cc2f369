"""torch → ONNX. Opset 18 on purpose: it is the dynamo exporter's native opset (converting down
to 17 fails on Pad), ONNX Runtime ≥ 1.14 and TensorRT 10's parser accept it, and it keeps
ReduceMean/Pad in their current form that the quantizer understands."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from edgekd.errors import EdgekdError

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "x", "logits"
log = logging.getLogger("edgekd.export")


def export_onnx(model, n_chans: int, n_times: int, path: str | Path) -> Path:
    """Export ``model`` (eval mode) with a dynamic batch axis; checks the graph and infers
    shapes. Returns ``path``."""
    import onnx
    import torch

    model = model.eval().cpu()
    example = torch.zeros(2, n_chans, n_times)
    batch = torch.export.Dim("batch", min=1, max=4096)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        try:
            torch.onnx.export(model, (example,), str(path), input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], opset_version=OPSET, dynamo=True,
                              external_data=False, dynamic_shapes={"x": {0: batch}},
                              verbose=False)
        except Exception as err:  # the exporter raises many types; name the model
            raise EdgekdError(f"ONNX export of {type(model).__name__} failed: {err}") from None
    proto = strip_debug_info(onnx.load(str(path)))
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(onnx.shape_inference.infer_shapes(proto, strict_mode=True), str(path))
    return Path(path)


def strip_debug_info(proto):
    """Drop the exporter's per-node stack traces and module paths (node metadata_props, doc
    strings): provenance for debugging, ~400 bytes a node, useless on the edge device."""
    for node in proto.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""
    proto.graph.doc_string = ""
    return proto


def attach_metadata(path: str | Path, text: str, extra: dict[str, str] | None = None) -> None:
    """Write the metadata JSON (and ``extra`` metadata_props entries, e.g. the self-check
    record) into the model, in place; the model says edgekd produced it."""
    import onnx

    from edgekd import __version__
    from export.metadata import METADATA_KEY

    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in {METADATA_KEY: text, **(extra or {})}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name, proto.producer_version = "edgekd", __version__
    onnx.save(proto, str(path))


def add_probabilities(path: str | Path) -> str:
    """Append ``probs = Softmax(logits)`` as a second graph output, in place; returns its name.

    The runtime binds it for decisions: onnxruntime's softmax kernel costs ~1 µs where numpy's
    costs ~5 µs at batch 1 (issue 13). ``logits`` stays the first output, for parity checks."""
    import onnx
    from onnx import TensorProto, helper

    from export.ort_backend import PROBS_NAME

    proto = onnx.load(str(path))
    out = proto.graph.output[0]
    if any(o.name == PROBS_NAME for o in proto.graph.output):
        return PROBS_NAME
    proto.graph.node.append(helper.make_node("Softmax", [out.name], [PROBS_NAME], axis=-1,
                                             name="edgekd_probs"))
    dims = [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]
    proto.graph.output.append(helper.make_tensor_value_info(PROBS_NAME, TensorProto.FLOAT, dims))
    # no onnx.checker here: the fp16 converter leaves nodes out of topological order, which
    # onnxruntime accepts; the parity check loads the result anyway
    onnx.save(proto, str(path))
    return PROBS_NAME
