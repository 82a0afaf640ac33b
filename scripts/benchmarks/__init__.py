"""The subcommands of scripts/bench.py, one module each with `add_parser(commands)` and `run(args) -> exit status`.

A new benchmark is a new module here plus one line in COMMAND_MODULES. Modules import nothing heavier than numpy
at the top: torch, faiss, ray and the project's index and qa modules are imported inside `run`, so that a measured
child process (`bench.py step ...`) starts as light as before and `bench.py --help` answers at once.
"""

# Subcommand -> module under benchmarks (in the order `bench.py --help` lists them). The first is the default.
COMMAND_MODULES = {
    "build": "build",  # archive-qa's build and serving beside LangChain and the raw model: the contract figures
    "step": "steps",  # one measured part of `build` in its own process (ours, LangChain, raw encode, ONNX export)
    "archive": "synthetic",  # writes the synthetic archive every speed benchmark reads
    "quality": "quality",  # retrieval recall and end-to-end answers per embedding backend, on the labelled sets
    "recall": "recall",  # recall@10 of the IVF-SQ8 index of a built index against exact search
    "ivf-memory": "ivf_memory",  # peak memory of training and filling the IVF-SQ8 index alone
    "million": "million",  # serving at a million chunks: open, search latency, memory, disk
    "mentions": "mentions",  # `archive-qa mentions` latency on a synthetic archive
    "ray": "scaling",  # docs/SCALING.md: the Ray engine's scaling, merged-IVF recall, bytes per vector
    "compaction": "compaction",  # build --compact after a long history vs a full rebuild (index.compact)
}
DEFAULT_COMMAND = "build"
