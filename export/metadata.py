"""Artifact metadata: everything needed to use an exported model with nothing but the file
(DESIGN §3). Stored as one JSON document under the ONNX ``metadata_props`` key ``edgekd``
(TensorRT engines: a ``.json`` sidecar). Torch-free."""

from __future__ import annotations

import json

from edgekd.errors import EdgekdError

METADATA_KEY = "edgekd"
FORMAT_VERSION = 1
REQUIRED = ("format_version", "edgekd_version", "format", "model", "label_names", "fs", "window",
            "hop", "channels", "preprocess", "quantization", "source_checkpoint_sha256",
            "input_name", "output_name")


def validate(meta: dict, where: str) -> dict:
    """Refuse metadata that lacks a required field or comes from a newer format."""
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise EdgekdError(f"{where}: artifact metadata lacks {missing}; re-export it with "
                          "`edgekd export`")
    if meta["format_version"] > FORMAT_VERSION:
        raise EdgekdError(f"{where}: artifact format {meta['format_version']} is newer than this "
                          f"edgekd understands ({FORMAT_VERSION}); upgrade edgekd")
    pre = meta["preprocess"]
    if pre.get("normalizer") is None:
        raise EdgekdError(f"{where}: artifact has no normalisation statistics")
    if int(pre["n_chans"]) != len(meta["channels"]) or int(pre["window"]) != int(meta["window"]):
        raise EdgekdError(f"{where}: inconsistent metadata (channels/window vs preprocess spec)")
    return meta


def encode(meta: dict) -> str:
    return json.dumps(meta, sort_keys=True)


def decode(text: str, where: str) -> dict:
    try:
        return validate(json.loads(text), where)
    except json.JSONDecodeError as err:
        raise EdgekdError(f"{where}: artifact metadata is not valid JSON ({err.msg})") from None
