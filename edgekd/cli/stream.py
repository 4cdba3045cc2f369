"""``edgekd stream`` and ``edgekd simulate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from edgekd.cli.console import err_console

Opt = typer.Option


def stream(
    model: Annotated[Optional[Path], Opt("--model", help="An exported artifact (.onnx / .plan). Without one, only the decisions the device makes itself are shown.")] = None,
    port: Annotated[str, Opt(help="Device URL: /dev/ttyACM0, a pty path, socket://host:port, loop://, replay://FILE[?speed=X].")] = ...,
    protocol: Annotated[str, Opt(help="Wire protocol: edgekd-v2 | edgekd-v1 | cyton.")] = "edgekd-v2",
    baud: Annotated[Optional[int], Opt(help="Baud rate (default: the protocol's).")] = None,
    threshold: Annotated[float, Opt(help="Reject decisions below this confidence.")] = 0.0,
    vote: Annotated[int, Opt(help="Majority vote over the last K accepted decisions.")] = 1,
    hop: Annotated[Optional[int], Opt(help="Samples between decisions (default: the artifact's).")] = None,
    duration: Annotated[Optional[float], Opt(help="Stop after this many seconds.")] = None,
    reconnect: Annotated[bool, Opt(help="Reconnect with back-off when the device disappears.")] = True,
    json_out: Annotated[Optional[str], Opt("--decisions-json", help="Write decisions as JSON lines to FILE ('-': stdout).")] = None,
    udp: Annotated[Optional[str], Opt(help="Send '<class> <confidence>' datagrams (LibEMG format) to HOST:PORT.")] = None,
    lsl: Annotated[bool, Opt(help="Publish decisions on an LSL outlet (pylsl).")] = False,
    record: Annotated[Optional[Path], Opt(help="Save the raw bytes with receive times, for replay://.")] = None,
    ground_truth: Annotated[Optional[Path], Opt(help="Labels written by `edgekd simulate` (online accuracy).")] = None,
    view: Annotated[bool, Opt(help="Live terminal view.")] = True,
    summary_json: Annotated[Optional[Path], Opt(help="Also write the end-of-session summary as JSON.")] = None,
) -> None:
    """Recognise gestures live: armband → firmware_bridge → the deployed student → decisions."""
    from edgekd.atomic import write_json_atomic
    from edgekd.live_model import load_stream_model
    from firmware_bridge.runner import StreamOptions, run_stream
    from firmware_bridge.sinks import make_sinks, udp_target

    opts = StreamOptions(port=port, protocol=protocol, baudrate=baud, threshold=threshold,
                         vote=vote, duration=duration, reconnect=reconnect, record=record,
                         ground_truth=ground_truth)
    if udp:
        udp_target(udp)        # refused before anything is loaded or opened
    handed = load_stream_model(model, hop) if model is not None else None
    labels = list(handed.label_names) if handed else []
    opts.sinks = make_sinks(json_out, udp, (model.stem if model else "edgekd") if lsl else None,
                            labels, "host" if handed else "device")
    if view and json_out != "-":
        from firmware_bridge.view import TerminalView
        with TerminalView(labels) as tv:
            opts.sinks.append(tv.sink)
            report = run_stream(opts, handed, on_tick=tv.tick)
    else:
        report = run_stream(opts, handed)
    if summary_json:
        write_json_atomic(summary_json, report)
    print_summary(report)


def print_summary(r: dict) -> None:
    table = Table("session", "value", title="stream summary")
    for key, value in r.items():
        table.add_row(key, escape(f"{value:.4f}" if isinstance(value, float) else str(value)))
    err_console.print(table)
    if r.get("lossy"):
        err_console.print(escape(f"note: a lossy run ({r['lossy_because']}); figures above "
                                 "were computed on what arrived"), style="yellow")


def simulate(
    protocol: Annotated[str, Opt(help="edgekd-v2 | edgekd-v1 | cyton.")] = "edgekd-v2",
    source: Annotated[str, Opt(help="'synth' or a dataset path (any format edgekd reads).")] = "synth",
    person: Annotated[Optional[str], Opt(help="Which person's recording (default: the first).")] = None,
    session: Annotated[Optional[str], Opt(help="Which session (default: the first).")] = None,
    speed: Annotated[float, Opt(help="Real-time factor (2 = twice as fast; 0 = as fast as possible).")] = 1.0,
    faults: Annotated[Optional[str], Opt(help="e.g. bitflip=1e-4,drop=1e-4,garbage=0.5,disconnect=10,outage=0.5 (per byte; bursts per s; s of signal; disconnect: TCP only).")] = None,
    loop: Annotated[bool, Opt(help="Start over at the end of the recording.")] = False,
    tcp: Annotated[Optional[int], Opt(help="Serve on 127.0.0.1:PORT instead of a pty (0: any free port).")] = None,
    samples_per_frame: Annotated[int, Opt(help="edgekd-v1/v2: samples per frame.")] = 4,
    ground_truth: Annotated[Optional[Path], Opt(help="Write the per-sample labels here (.npz) and the injected faults (.faults.json).")] = None,
    seed: Annotated[int, Opt(help="Fault injection seed.")] = 0,
    wait: Annotated[Optional[float], Opt(help="Give up if no host sends start within this many seconds.")] = None,
) -> None:
    """Emulate an armband: stream a recording over a pty or TCP at the real-time rate."""
    from firmware_bridge.emulator import Emulator, FaultSpec, run_emulator
    from firmware_bridge.protocols import PROTOCOLS

    wire = PROTOCOLS.get(protocol)
    spec = FaultSpec.parse(faults)
    rec = _source_recording(source, person, session, wire.fixed_info)
    emu = Emulator(rec.signals, rec.fs, wire, rec.labels, samples_per_frame, speed, spec, loop,
                   seed)
    if ground_truth:
        emu.write_ground_truth(ground_truth)

    def ready(url: str) -> None:
        print(url, flush=True)
        err_console.print(escape(f"emulating {protocol} ({rec.n_chans} ch @ {rec.fs:g} Hz, "
                                 f"{rec.duration_s:.0f} s of {rec.person}/{rec.session}) on "
                                 f"{url}; waiting for the host's start command"))

    run_emulator(emu, tcp, wait, ready)
    if ground_truth:
        emu.write_fault_log(ground_truth)
    log = emu.log
    err_console.print(f"sent {log.frames_sent} frames, corrupted {len(log.frames_corrupted)}, "
                      f"garbage bursts {log.garbage_bursts}, disconnects {log.disconnects} "
                      f"({log.frames_lost_in_outages} frames lost while away)"
                      + ("; the host left" if log.host_left else ""))


def _source_recording(source: str, person: str | None, session: str | None, fixed_info):
    from edgekd.data.readers import read_dataset
    from edgekd.data.synth import SynthConfig, synthesize
    from edgekd.errors import EdgekdError

    if source == "synth":  # a device with a fixed layout (Cyton) gets a recording in its layout
        layout = {"channels": fixed_info.n_chans, "fs": fixed_info.fs} if fixed_info else {}
        dataset = synthesize(SynthConfig(people=1, sessions=1, seed=11, **layout))
    else:
        dataset = read_dataset(source)
    recs = [r for r in dataset.of_modality(dataset.primary_modality)
            if (person is None or r.person == person) and (session is None or r.session == session)]
    if not recs:
        raise EdgekdError(f"{source}: no recording for person={person} session={session}")
    return recs[0]
