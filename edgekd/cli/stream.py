"""``edgekd stream`` and ``edgekd simulate``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from edgekd.cli.console import err_console

Opt = typer.Option


def stream(
    model: Annotated[Path, Opt("--model", help="An exported artifact (.onnx / .plan).")],
    port: Annotated[str, Opt(help="Device URL: /dev/ttyACM0, a pty path, socket://host:port, loop://, replay://FILE[?speed=X].")],
    protocol: Annotated[str, Opt(help="Wire protocol: edgekd-v1 | cyton.")] = "edgekd-v1",
    baud: Annotated[Optional[int], Opt(help="Baud rate (default: the protocol's).")] = None,
    threshold: Annotated[float, Opt(help="Reject decisions below this confidence.")] = 0.0,
    vote: Annotated[int, Opt(help="Majority vote over the last K accepted decisions.")] = 1,
    hop: Annotated[Optional[int], Opt(help="Samples between decisions (default: the artifact's).")] = None,
    duration: Annotated[Optional[float], Opt(help="Stop after this many seconds.")] = None,
    reconnect: Annotated[bool, Opt(help="Reconnect with back-off when the device disappears.")] = True,
    json_out: Annotated[Optional[str], Opt("--json", help="Write decisions as JSON lines to FILE ('-': stdout).")] = None,
    udp: Annotated[Optional[str], Opt(help="Send '<class> <confidence>' datagrams (LibEMG format) to HOST:PORT.")] = None,
    lsl: Annotated[bool, Opt(help="Publish decisions on an LSL outlet (pylsl).")] = False,
    record: Annotated[Optional[Path], Opt(help="Save the raw bytes with receive times, for replay://.")] = None,
    ground_truth: Annotated[Optional[Path], Opt(help="Labels written by `edgekd simulate` (online accuracy).")] = None,
    view: Annotated[bool, Opt(help="Live terminal view.")] = True,
    summary_json: Annotated[Optional[Path], Opt(help="Also write the end-of-session summary as JSON.")] = None,
    self_check: Annotated[bool, Opt("--self-check/--no-self-check", help="Replay the artifact's reference windows first; refuse it if it does not reproduce its checkpoint here.")] = True,
) -> None:
    """Recognise gestures live: armband → firmware_bridge → the deployed student → decisions."""
    import os

    from export.runtime import load
    from firmware_bridge.session import StreamOptions, run_stream
    from firmware_bridge.sinks import JsonLinesSink, LslSink, UdpLibEmgSink

    checked = load(model, self_check=self_check)     # refuses here, before the port opens
    err_console.print(checked.self_check.summary(), soft_wrap=True)
    # firmware_bridge's session loads the artifact again; it takes the choice from the process
    # environment (export.runtime.load's EDGEKD_SELF_CHECK)
    os.environ["EDGEKD_SELF_CHECK"] = "1" if self_check else "0"
    labels = checked.label_names
    sinks = []
    if json_out:
        sinks.append(JsonLinesSink(json_out, labels))
    if udp:
        sinks.append(UdpLibEmgSink(udp))
    if lsl:
        sinks.append(LslSink(model.stem, labels))
    opts = StreamOptions(model, port, protocol, baud, threshold, vote, hop, duration, reconnect,
                         record, ground_truth, sinks)
    if view and json_out != "-":
        from firmware_bridge.view import TerminalView
        with TerminalView(labels) as tv:
            opts.sinks.append(tv.sink)
            report = run_stream(opts, on_tick=tv.tick)
    else:
        report = run_stream(opts)
    if summary_json:
        summary_json.write_text(json.dumps(report, indent=2))
    print_summary(report)


def print_summary(r: dict) -> None:
    table = Table("session", "value", title="stream summary")
    for key, value in r.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    err_console.print(table)


def simulate(
    protocol: Annotated[str, Opt(help="edgekd-v1 | cyton.")] = "edgekd-v1",
    source: Annotated[str, Opt(help="'synth' or a dataset path (any format edgekd reads).")] = "synth",
    person: Annotated[Optional[str], Opt(help="Which person's recording (default: the first).")] = None,
    session: Annotated[Optional[str], Opt(help="Which session (default: the first).")] = None,
    speed: Annotated[float, Opt(help="Real-time factor (2 = twice as fast; 0 = as fast as possible).")] = 1.0,
    faults: Annotated[Optional[str], Opt(help="e.g. bitflip=1e-4,drop=1e-4,garbage=0.5,disconnect=10 (disconnect: TCP only).")] = None,
    loop: Annotated[bool, Opt(help="Start over at the end of the recording.")] = False,
    tcp: Annotated[Optional[int], Opt(help="Serve on 127.0.0.1:PORT instead of a pty (0: any free port).")] = None,
    samples_per_frame: Annotated[int, Opt(help="edgekd-v1: samples per frame.")] = 4,
    ground_truth: Annotated[Optional[Path], Opt(help="Write the per-sample labels here (.npz) and the injected faults (.faults.json).")] = None,
    seed: Annotated[int, Opt(help="Fault injection seed.")] = 0,
    wait: Annotated[Optional[float], Opt(help="Give up if no host sends start within this many seconds.")] = None,
) -> None:
    """Emulate an armband: stream a recording over a pty or TCP at the real-time rate."""
    from edgekd.errors import EdgekdError
    from firmware_bridge.emulator import Emulator, FaultSpec
    from firmware_bridge.protocols import PROTOCOLS

    rec = _source_recording(source, person, session)
    emu = Emulator(rec.signals, rec.fs, PROTOCOLS.get(protocol), rec.labels, samples_per_frame,
                   speed, FaultSpec.parse(faults), loop, seed)
    if ground_truth:
        emu.write_ground_truth(ground_truth)
    url, thread = emu.serve_tcp(port=tcp) if tcp is not None else emu.serve_pty()
    print(url, flush=True)
    err_console.print(f"emulating {protocol} ({rec.n_chans} ch @ {rec.fs:g} Hz, "
                      f"{rec.duration_s:.0f} s of {rec.person}/{rec.session}) on {url}; "
                      "waiting for the host's start command")
    deadline = time.monotonic() + wait if wait else None
    try:
        while thread.is_alive():
            thread.join(0.2)
            if deadline and not emu.log.frames_sent and time.monotonic() > deadline:
                emu.stop()
                raise EdgekdError(f"no host sent the start command within {wait:g} s")
    except KeyboardInterrupt:
        emu.stop()
    if ground_truth:
        emu.write_fault_log(ground_truth)
    err_console.print(f"sent {emu.log.frames_sent} frames, corrupted "
                      f"{len(emu.log.frames_corrupted)}, garbage bursts {emu.log.garbage_bursts}, "
                      f"disconnects {emu.log.disconnects}")


def _source_recording(source: str, person: str | None, session: str | None):
    from edgekd.data.readers import read_dataset
    from edgekd.data.synth import SynthConfig, synthesize
    from edgekd.errors import EdgekdError

    dataset = (synthesize(SynthConfig(people=1, sessions=1, seed=11)) if source == "synth"
               else read_dataset(source))
    recs = [r for r in dataset.of_modality(dataset.primary_modality)
            if (person is None or r.person == person) and (session is None or r.session == session)]
    if not recs:
        raise EdgekdError(f"{source}: no recording for person={person} session={session}")
    return recs[0]


