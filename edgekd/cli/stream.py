"""``edgekd stream`` and ``edgekd simulate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from edgekd.cli.console import err_console
from edgekd.decision_policy import DEFAULT_THRESHOLD, DEFAULT_VOTE

Opt = typer.Option


def stream(
    model: Annotated[Optional[Path], Opt("--model", help="An exported artifact (.onnx / .plan). Without one, only the decisions the device makes itself are shown.")] = None,
    port: Annotated[str, Opt(help="Source URL: /dev/ttyACM0, a pty path, socket://host:port, loop://, replay://FILE[?speed=X]; lsl://NAME (an LSL stream); brainflow://BOARD[?serial_port=...&channels=N] (any BrainFlow board, e.g. brainflow://synthetic).")] = ...,
    protocol: Annotated[Optional[str], Opt(help="Wire protocol of a byte source: edgekd-v2 (default) | edgekd-v1 | cyton.")] = None,
    baud: Annotated[Optional[int], Opt(help="Baud rate (default: the protocol's).")] = None,
    threshold: Annotated[float, Opt(help="Reject decisions below this confidence (default measured: benchmarks/results/decision_policy.md).")] = DEFAULT_THRESHOLD,
    vote: Annotated[int, Opt(help="Majority vote over the last K accepted decisions (default measured: benchmarks/results/decision_policy.md).")] = DEFAULT_VOTE,
    hop: Annotated[Optional[int], Opt(help="Samples between decisions (default: the artifact's).")] = None,
    duration: Annotated[Optional[float], Opt(help="Stop after this many seconds.")] = None,
    reconnect: Annotated[bool, Opt(help="Reconnect with back-off when the device disappears.")] = True,
    json_out: Annotated[Optional[str], Opt("--decisions-json", help="Write decisions as JSON lines to FILE ('-': stdout).")] = None,
    udp: Annotated[Optional[str], Opt(help="Send every decision to HOST:PORT as a LibEMG datagram (rejected windows as class -1, velocity = confidence or 0).")] = None,
    udp_format: Annotated[str, Opt(help="LibEMG output_format of the datagrams: predictions ('<class> <velocity>') | probabilities ('<p0> ... <pK> <velocity> <unix time>').")] = "predictions",
    lsl: Annotated[bool, Opt(help="Publish decisions on an LSL outlet (pylsl), stamped with acquisition time.")] = False,
    lsl_raw: Annotated[bool, Opt(help="Publish the raw EMG (µV) on an LSL outlet with channel metadata, stamped with acquisition time.")] = False,
    record: Annotated[Optional[Path], Opt(help="Save the raw bytes with receive times, for replay://.")] = None,
    ground_truth: Annotated[Optional[Path], Opt(help="Labels written by `edgekd simulate` (online accuracy).")] = None,
    view: Annotated[bool, Opt(help="Live terminal view.")] = True,
    summary_json: Annotated[Optional[Path], Opt(help="Also write the end-of-session summary as JSON.")] = None,
    self_check: Annotated[bool, Opt("--self-check/--no-self-check", help="Replay the artifact's reference windows first; refuse it if it does not reproduce its checkpoint here.")] = True,
) -> None:
    """Recognise gestures live: armband → firmware_bridge → the deployed student → decisions."""
    from edgekd.atomic import write_json_atomic
    from edgekd.errors import ConfigError
    from edgekd.live_model import load_stream_model
    from firmware_bridge.runner import StreamOptions, run_stream
    from firmware_bridge.sinks import UDP_FORMATS, make_sample_sinks, make_sinks, udp_target

    opts = StreamOptions(port=port, protocol=protocol, baudrate=baud, threshold=threshold,
                         vote=vote, duration=duration, reconnect=reconnect, record=record,
                         ground_truth=ground_truth)
    if udp:
        udp_target(udp)        # refused before anything is loaded or opened
    if udp_format not in UDP_FORMATS:
        raise ConfigError(f"--udp-format {udp_format!r}: expected one of {', '.join(UDP_FORMATS)}")
    # the artifact replays its reference windows here and is refused before the port opens
    handed = (load_stream_model(model, hop, self_check=self_check) if model is not None
              else None)
    if handed is not None:
        err_console.print(escape(handed.self_check), soft_wrap=True)
    labels = list(handed.label_names) if handed else []
    stem = model.stem if model else "edgekd"
    opts.sinks = make_sinks(json_out, udp, stem if lsl else None, labels,
                            "host" if handed else "device", udp_format)
    opts.sample_sinks = make_sample_sinks(f"{stem}-raw" if lsl_raw else None,
                                          list(handed.channel_names) if handed else None)
    if view and json_out != "-":
        from firmware_bridge.truth import GroundTruth
        from firmware_bridge.view import TerminalView
        truth = GroundTruth.load(ground_truth) if ground_truth and handed else None
        with TerminalView(labels, truth, handed.window if handed else None) as tv:
            opts.sinks.append(tv.sink)
            report = run_stream(opts, handed, on_tick=tv.tick)
    else:
        report = run_stream(opts, handed)
    if summary_json:
        from edgekd.provenance import provenance
        write_json_atomic(summary_json, {**report, "provenance": provenance()})
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
    person: Annotated[Optional[str], Opt(help="Whose recording (required when the source holds several people).")] = None,
    session: Annotated[Optional[str], Opt(help="Which session (required when the source holds several): stream one the model was not trained on.")] = None,
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
        err_console.print(escape(f"emulating {protocol} on {url}: person {rec.person}, session "
                                 f"{rec.session} of {source} ({rec.duration_s:.0f} s, "
                                 f"{rec.n_chans} ch @ {rec.fs:g} Hz); waiting for the host's "
                                 "start command"))

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
    every = dataset.of_modality(dataset.primary_modality)
    recs = [r for r in every
            if (person is None or r.person == person) and (session is None or r.session == session)]
    have = ", ".join(f"{r.person}/{r.session}" for r in every[:12]) + (
        f" and {len(every) - 12} more" if len(every) > 12 else "")
    if not recs:
        raise EdgekdError(f"{source}: no recording for person={person} session={session} "
                          f"(have {have})")
    if len(recs) > 1:   # never pick one silently: the first is usually training data
        raise EdgekdError(f"{source}: {len(recs)} recordings match; choose one with --person "
                          f"and --session, ideally a session the model was not trained on "
                          f"(have {have})")
    return recs[0]
