"""accelsim against ZigZag (KU Leuven, zigzag-dse 3.9.1) on the same layers, at matched assumptions.

Runs both tools in one process on every convolution of SqueezeNet v1.0 (Iandola et al. 2016),
for both dataflows (WS, OS) and both of the paper's configurations (8x8/32KB, 16x16/128KB), and
writes ``bench/peers/zigzag_vs_accelsim.md`` (the table ``accelsim validate`` prints) and a JSON
twin. Install the peer first: ``pip install -e '.[peers]'``.

Matched assumptions (what both tools are told):

* 1 GHz clock, so 16 GB/s of DRAM is 8 16-bit words per cycle (128 bits/cycle in ZigZag);
  16-bit weights, inputs, outputs and partial sums.
* dense weights (accelsim's OS zero-skipping off: ZigZag has no weight sparsity);
* Eyeriss's normalised energies per 16-bit access: MAC 1, register file 1, global buffer 6,
  DRAM 200 (ZigZag memories get these as r_cost/w_cost with a 16-bit access word), no
  calibration scale;
* each layer alone (no fusion, no residency): ZigZag evaluates layers independently;
* ZigZag's spatial unrolling set to accelsim's mapping of each dataflow: WS puts input channels
  on the Pr rows and output channels on the Pc columns (D1=C, D2=K), OS puts a Pr x Pc block of
  one output map on the array (D1=OY, D2=OX);
* the global buffer has the configuration's capacity; the stationary operand has a one-word
  register per PE (weights in WS, outputs in OS); the buffer's read and write ports deliver
  accelsim's array-side bandwidth for that dataflow (see ``buffer_bits_per_cycle``).

ZigZag chooses its temporal mapping (loop order and memory allocation) with its own LOMA search,
minimising latency; accelsim its tiling with its own search. What ZigZag does not count: the
DRAM access latency (a 100-cycle first-access delay in accelsim), inter-PE hops (accelsim's
``inter_pe`` energy: the energy ratio is given with and without it), and the systolic fill and
drain of the array.

ZigZag's mapping search takes minutes per configuration, so its per-layer results are kept in
``zigzag_cache.json`` beside this script, keyed by a digest of everything ZigZag is given
(accelerator, mapping, layer, version): a rerun reuses a result only when ZigZag's inputs are
unchanged, and recomputes the accelsim side every time. ``--fresh`` ignores the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

CONFIGS = ("8x8", "16x16")
DATAFLOWS = ("ws", "os")
EXPLAIN_ABOVE = 0.15
ZIGZAG_VERSION = "3.9.1"
CACHE = HERE / "zigzag_cache.json"


def matched_spec(name: str):
    """The paper configuration ``name`` at the assumptions both tools share."""
    from accelsim.hardware import resolve_hardware
    from accelsim.hardware.overrides import apply_set

    spec = resolve_hardware(name)
    for item in ("clock_hz=1GHz", "sparsity.weight_sparsity=0"):
        spec = apply_set(spec, item)
    for field in type(spec.energy).model_fields:  # every calibration scale back to 1: raw Eyeriss costs
        if field.endswith("scale"):
            spec = apply_set(spec, f"energy.{field}=1.0")
    return spec


def array_words_per_cycle(spec, dataflow: str) -> dict[str, int]:
    """Words per cycle each operand moves between the global buffer and the array in ZigZag.

    WS uses accelsim's one buffer-port model (``spec.array_read_width`` = read ports x port
    width): one input word per array row, weight loads through the read ports, one partial sum
    per column in and out. OS: input windows through the same read ports
    (``spec.os_input_width``), one broadcast weight, one output row (``spec.os_output_width``)
    per cycle. What ZigZag cannot be told: accelsim's OS array passes inputs between
    neighbouring PEs (ShiDianNao-style), so a KxK window costs the buffer only its distinct
    words; ZigZag reads every PE's input from the buffer. Its KxK OS layers are input-port-bound
    where accelsim's are not (``explain`` names it per layer); 1x1 layers have no such reuse.
    """
    if dataflow == "ws":
        return {"I1": spec.pe_array.rows, "I2": int(spec.array_read_width), "O": spec.pe_array.cols}
    return {"I1": int(spec.os_input_width), "I2": 1, "O": int(spec.os_output_width)}


def zigzag_accelerator(spec, dataflow: str) -> dict:
    """The accelerator as a ZigZag memory hierarchy: a register per PE, the global buffer, DRAM.

    ZigZag charges ``r_cost``/``w_cost`` per access of a port's full width (``bandwidth_max``
    bits), so each cost is the per-word Eyeriss cost times the port's width in words. Every
    operand has its own buffer ports (accelsim's paths are separate too); the DRAM-side buffer
    ports are as wide as DRAM, which bounds them anyway.
    """
    rows, cols = spec.pe_array.rows, spec.pe_array.cols
    dram_bits = int(round(spec.dram_words_per_cycle * 16))
    widths = array_words_per_cycle(spec, dataflow)
    energy = spec.energy
    stationary = "I2" if dataflow == "ws" else "O"

    def port(name, kind, bits, alloc):
        return {"name": name, "type": kind, "bandwidth_min": 16, "bandwidth_max": int(bits), "allocation": alloc}

    if stationary == "I2":
        reg_ports = [port("r_port_1", "read", 16, ["I2, tl"]), port("w_port_1", "write", 16, ["I2, fh"])]
    else:
        reg_ports = [port("r_port_1", "read", 16, ["O, tl", "O, th"]),
                     port("w_port_1", "write", 16, ["O, fh", "O, fl"])]
    # one cost per memory: ZigZag prices all of a memory's ports alike, so give every buffer port
    # the same width and let the narrowest array path be the one accelsim models
    buf_bits = 16 * max(widths.values())
    buffer_ports = [port("r_port_1", "read", buf_bits, ["I1, tl"]), port("r_port_2", "read", buf_bits, ["I2, tl"]),
                    port("r_port_3", "read", buf_bits, ["O, tl", "O, th"]),
                    port("w_port_1", "write", buf_bits, ["O, fl"]),
                    port("w_port_2", "write", buf_bits, ["I1, fh", "I2, fh", "O, fh"])]
    every = ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl", "O, fl", "O, th"]
    return {
        "name": f"accelsim_{rows}x{cols}_{dataflow}",
        "memories": {
            "pe_register": {
                "size": 16, "r_cost": energy.register_file, "w_cost": energy.register_file, "area": 0,
                "latency": 1, "operands": [stationary], "ports": reg_ports, "served_dimensions": [],
            },
            "global_buffer": {
                "size": int(spec.global_buffer.size_bytes) * 8, "r_cost": energy.global_buffer * buf_bits / 16,
                "w_cost": energy.global_buffer * buf_bits / 16, "area": 0, "latency": 1,
                "operands": ["I1", "I2", "O"], "ports": buffer_ports, "served_dimensions": ["D1", "D2"],
            },
            "dram": {
                "size": 10**12, "r_cost": energy.dram * dram_bits / 16, "w_cost": energy.dram * dram_bits / 16,
                "area": 0, "latency": 1, "operands": ["I1", "I2", "O"],
                "ports": [port("rw_port_1", "read_write", dram_bits, every)], "served_dimensions": ["D1", "D2"],
            },
        },
        "operational_array": {"unit_energy": energy.mac, "unit_area": 1, "dimensions": ["D1", "D2"],
                              "sizes": [rows, cols]},
    }


def _spatial(spec, dataflow: str) -> dict:
    rows, cols = spec.pe_array.rows, spec.pe_array.cols
    dims = ("C", "K") if dataflow == "ws" else ("OY", "OX")
    return {"D1": [f"{dims[0]}, {rows}"], "D2": [f"{dims[1]}, {cols}"]}


def zigzag_mapping(spec, dataflow: str) -> list[dict]:
    links = {"O": "O", "W": "I2", "I": "I1"}
    return [{"name": "default", "spatial_mapping": _spatial(spec, dataflow), "memory_operand_links": links}]


def zigzag_layer(layer, index: int) -> dict:
    """One accelsim conv layer as a ZigZag workload layer (batch 1, 16-bit operands, no groups)."""
    c, h, w = layer.in_shape
    k, ho, wo = layer.out_shape
    (r, s), (sy, sx), (py, px) = layer.kernel, layer.stride, layer.padding
    if layer.groups != 1:
        raise ValueError(f"{layer.name}: grouped layers are not compared")
    return {
        "id": index, "name": layer.name, "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": [f"ix={sx}*ox+1*fx", f"iy={sy}*oy+1*fy"],
        "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
        "loop_sizes": [1, k, c, ho, wo, r, s],
        "operand_precision": {"W": 16, "I": 16, "O": 16, "O_final": 16},
        "operand_source": {"I": index},
        "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [w, h],
        "padding": [[px, px], [py, py]],
    }


def squeezenet_convs():
    from accelsim.workload.zoo import load_graph

    graph = load_graph("squeezenet1_0")
    return [layer for layer in graph.layers() if layer.kind.value == "conv"]


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def run_zigzag(layers, spec, dataflow: str, workdir: Path, cache: dict) -> tuple[list[dict], float]:
    """ZigZag's latency-optimal result for each layer alone, and the CPU seconds it took.

    ``cache`` maps a digest of ZigZag's exact inputs (accelerator, mapping, layer, version) to a
    result computed before, with that run's CPU time: a result is reused only when nothing
    ZigZag sees has changed.
    """
    import yaml
    from zigzag.api import get_hardware_performance_zigzag

    accelerator, mapping = zigzag_accelerator(spec, dataflow), zigzag_mapping(spec, dataflow)
    acc = workdir / f"acc_{spec.pe_array.rows}_{dataflow}.yaml"
    mapfile = workdir / f"map_{spec.pe_array.rows}_{dataflow}.yaml"
    acc.write_text(yaml.safe_dump(accelerator, sort_keys=False))
    mapfile.write_text(yaml.safe_dump(mapping, sort_keys=False))
    rows, cpu = [], 0.0
    for layer in layers:
        workload = zigzag_layer(layer, 0)
        key = _digest(accelerator, mapping, workload, ZIGZAG_VERSION)
        if key not in cache:
            start = time.process_time()
            _, _, cmes = get_hardware_performance_zigzag(
                [workload], str(acc), str(mapfile), opt="latency",
                dump_folder=str(workdir / "out"), loma_show_progress_bar=False)
            cme = cmes[0][1][0][0] if isinstance(cmes[0][1], list) and cmes[0][1] else cmes[0][0]
            cache[key] = {"cycles": float(cme.latency_total2), "ideal_cycles": float(cme.ideal_temporal_cycle),
                          "onload": float(cme.latency_total1 - cme.latency_total0),
                          "offload": float(cme.latency_total2 - cme.latency_total1),
                          "energy": float(cme.energy_total), "mac_energy": float(cme.mac_energy),
                          "cpu_s": time.process_time() - start}
        cpu += cache[key]["cpu_s"]
        rows.append({"layer": layer.name, **cache[key]})
    return rows, cpu


def run_accelsim(layers, spec, dataflow: str) -> tuple[list[dict], float]:
    from accelsim.simulation import SimCache, simulate_layer

    cache = SimCache()
    rows = []
    start = time.process_time()
    for layer in layers:
        r = simulate_layer(layer, spec, dataflow=dataflow, cache=cache)
        e = r.energy.to_dict()
        rows.append({"layer": layer.name, "cycles": float(r.cycles), "compute_cycles": float(r.compute_cycles),
                     "dram_cycles": float(r.dram_cycles), "bound": r.bound, "energy": float(r.energy.total),
                     "energy_no_inter_pe": float(r.energy.total - e.get("inter_pe", 0.0)), "macs": int(r.macs),
                     "kernel": tuple(layer.kernel)})
    return rows, time.process_time() - start


def explain(a: dict, z: dict, dataflow: str) -> str:
    """Why a layer's cycle counts differ, from the two tools' own breakdowns."""
    ratio = a["cycles"] / z["cycles"]
    parts = []
    if dataflow == "os" and a["kernel"] != (1, 1):
        parts.append(f"{a['kernel'][0]}x{a['kernel'][1]} window: accelsim shifts inputs between neighbouring PEs, "
                     "ZigZag reads each PE's input from the buffer port")
    if a["bound"] == "memory":
        parts.append(f"DRAM-bound in accelsim ({a['dram_cycles']:,.0f} DRAM vs "
                     f"{a['compute_cycles']:,.0f} compute cycles)")
    ideal = a["compute_cycles"] / z["ideal_cycles"] if z["ideal_cycles"] else math.inf
    if abs(ideal - 1) > EXPLAIN_ABOVE:
        parts.append(f"compute model differs x{ideal:.2f} (accelsim {a['compute_cycles']:,.0f} vs ZigZag ideal "
                     f"{z['ideal_cycles']:,.0f} cycles)")
    edges = z["onload"] + z["offload"]
    if edges > 0.1 * z["cycles"]:
        parts.append(f"ZigZag charges {edges:,.0f} cycles of un-overlapped on/off-loading")
    stall = z["cycles"] - z["ideal_cycles"] - edges
    if stall > 0.1 * z["cycles"]:
        parts.append(f"ZigZag stalls {stall:,.0f} cycles on memory bandwidth")
    if not parts:
        parts.append("small fixed terms (latency, fill/drain) on a short layer")
    return f"x{ratio:.2f}: " + "; ".join(parts)


def compare(workdir: Path, cache: dict) -> dict:
    layers = squeezenet_convs()
    blocks = []
    for config in CONFIGS:
        spec = matched_spec(config)
        for dataflow in DATAFLOWS:
            print(f"  {config} {dataflow}: ZigZag ...", file=sys.stderr, flush=True)
            zrows, zcpu = run_zigzag(layers, spec, dataflow, workdir, cache)
            arows, acpu = run_accelsim(layers, spec, dataflow)
            per_layer = []
            for a, z in zip(arows, zrows, strict=True):
                apart = abs(a["cycles"] / z["cycles"] - 1) > EXPLAIN_ABOVE
                per_layer.append({"layer": a["layer"], "macs": a["macs"], "accelsim_cycles": a["cycles"],
                                  "zigzag_cycles": z["cycles"], "cycle_ratio": a["cycles"] / z["cycles"],
                                  "accelsim_energy": a["energy"], "zigzag_energy": z["energy"],
                                  "energy_ratio": a["energy"] / z["energy"],
                                  "energy_ratio_no_inter_pe": a["energy_no_inter_pe"] / z["energy"],
                                  "accelsim_bound": a["bound"], "zigzag_ideal_cycles": z["ideal_cycles"],
                                  "kernel": list(a["kernel"]), "explanation": explain(a, z, dataflow) if apart else ""})
            tot = {key: sum(r[key] for r in per_layer)
                   for key in ("accelsim_cycles", "zigzag_cycles", "accelsim_energy", "zigzag_energy")}
            tot_no_ipe = sum(a["energy_no_inter_pe"] for a in arows)
            blocks.append({"config": config, "dataflow": dataflow, "layers": per_layer,
                           "total_cycle_ratio": tot["accelsim_cycles"] / tot["zigzag_cycles"],
                           "total_energy_ratio": tot["accelsim_energy"] / tot["zigzag_energy"],
                           "total_energy_ratio_no_inter_pe": tot_no_ipe / tot["zigzag_energy"],
                           "accelsim_cpu_s": acpu, "zigzag_cpu_s": zcpu, **tot})
    return {"network": "SqueezeNet v1.0 (all 26 convolutions)", "blocks": blocks}


def markdown(result: dict, versions: dict) -> str:
    out = ["# accelsim vs ZigZag on SqueezeNet v1.0", "",
           f"Generated by `python bench/peers/zigzag_vs_accelsim.py` (accelsim {versions['accelsim']}, "
           f"zigzag-dse {versions['zigzag']}). Matched assumptions: 1 GHz (8 DRAM words/cycle), dense weights, "
           "Eyeriss energies (MAC 1, RF 1, buffer 6, DRAM 200) unscaled, each layer alone, ZigZag's spatial "
           "unrolling set to accelsim's mapping (WS: C on rows, K on columns; OS: an OY x OX block). "
           "Ratios are accelsim / ZigZag. The energy ratio is also given without accelsim's inter-PE hops, "
           "which ZigZag does not count.", "",
           "| config | dataflow | cycle ratio | energy ratio | energy ratio w/o inter-PE | layers within 15% "
           "(cycles) | 1x1 layers within 15% | accelsim CPU s | ZigZag CPU s |", "|---" * 9 + "|"]
    for b in result["blocks"]:
        within = sum(abs(r["cycle_ratio"] - 1) <= EXPLAIN_ABOVE for r in b["layers"])
        pointwise = [r for r in b["layers"] if r["kernel"] == [1, 1]]
        within_1x1 = sum(abs(r["cycle_ratio"] - 1) <= EXPLAIN_ABOVE for r in pointwise)
        out.append(f"| {b['config']} | {b['dataflow']} | {b['total_cycle_ratio']:.3f} | "
                   f"{b['total_energy_ratio']:.3f} | {b['total_energy_ratio_no_inter_pe']:.3f} | "
                   f"{within}/{len(b['layers'])} | {within_1x1}/{len(pointwise)} | "
                   f"{b['accelsim_cpu_s']:.3f} | {b['zigzag_cpu_s']:.1f} |")
    for b in result["blocks"]:
        out += ["", f"## {b['config']}, {b['dataflow'].upper()}", "",
                "| layer | MACs | accelsim cycles | ZigZag cycles | ratio | energy ratio | why (if > 15% apart) |",
                "|---|---|---|---|---|---|---|"]
        for r in b["layers"]:
            out.append(f"| {r['layer']} | {r['macs']:,} | {r['accelsim_cycles']:,.0f} | {r['zigzag_cycles']:,.0f} | "
                       f"{r['cycle_ratio']:.3f} | {r['energy_ratio']:.3f} | {r['explanation']} |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory for the .md and .json outputs")
    parser.add_argument("--fresh", action="store_true", help="rerun ZigZag on every layer, ignoring the cache")
    args = parser.parse_args()
    try:
        import zigzag  # noqa: F401
    except ImportError:
        print("error: ZigZag is not installed; pip install -e '.[peers]'", file=sys.stderr)
        return 2
    logging.disable(logging.CRITICAL)
    from importlib.metadata import version

    import accelsim
    from accelsim.atomic import write_text

    versions = {"accelsim": accelsim.__version__, "zigzag": version("zigzag-dse")}
    if versions["zigzag"] != ZIGZAG_VERSION:
        print(f"error: the cross-check is pinned to zigzag-dse {ZIGZAG_VERSION}; found {versions['zigzag']}",
              file=sys.stderr)
        return 2
    cache = {} if args.fresh or not CACHE.exists() else json.loads(CACHE.read_text())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = compare(Path(tmp), cache)
    finally:  # keep what ZigZag computed even when a later block fails or is interrupted
        write_text(CACHE, json.dumps(cache, indent=1, sort_keys=True) + "\n")

    result["versions"] = versions
    write_text(args.out / "zigzag_vs_accelsim.json", json.dumps(result, indent=1, sort_keys=True) + "\n")
    write_text(args.out / "zigzag_vs_accelsim.md", markdown(result, versions))
    print(markdown(result, versions).split("\n## ")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
