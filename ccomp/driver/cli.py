"""The ``ccomp`` command: build, run and inspect ComputeNodes programs.

This is the CLI's output layer: results go to stdout, diagnostics to stderr, and
every user error exits non-zero with a located message, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ccomp import __version__
from ccomp.diagnostics import CompileError, PassError

BUILD_DIR = "ccomp-build"
"""Where ``ccomp build`` writes without ``-o`` (not ``build/``, which setuptools owns)."""

EPILOG = """\
examples:
  ccomp build examples/tonemap.cn -o ccomp-build/       compile, write artefacts to ccomp-build/
  ccomp build examples/tonemap.cn --emit kern           print the kernel-level IR
  ccomp build examples/tonemap.cn --emit glsl           print the GLSL compute shaders (implies -t glsl)
  ccomp build --print-pipeline -t glsl                  print the passes, for ccomp-opt -p
  ccomp build examples/heat.cn --emit svg > heat.svg    draw the graph and its kernel schedule (Graphviz)
  ccomp run examples/edges.cn --input src=examples/data/card.png --output mag=mag.png
  ccomp run examples/tonemap.cn --input src=in.npy --input gain=1.2 --output out=out.png
  ccomp run --build ccomp-build/ --input src=in.npy --output out=out.npy
  ccomp run examples/stats.cn --send Samples=in.jsonl --replies out.jsonl --telemetry   run actors
  ccomp build examples/tonemap.cn --sign KEY -o b/      sign the folder; 'ccomp run --build b/ --verify KEY' checks it
  ccomp targets                                         list targets usable on this machine
"""


def _parser() -> argparse.ArgumentParser:
    from ccomp.driver.pipeline import STAGES
    from ccomp.runtime.devices.targets import TARGETS

    targets = list(TARGETS) + ["auto"]
    p = argparse.ArgumentParser(
        prog="ccomp", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Compile ComputeNodes (.cn) programs to native code (LLVM), OpenCL C or GLSL "
                    "compute shaders, and run them.")
    p.add_argument("--version", action="version", version=f"ccomp {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log compiler progress (-vv: debug)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", help="compile a program and write its artefacts or print one stage",
                       description="Compile FILE. With -o, write the artefacts (IR, generated code, "
                                   "manifest.json) to a folder; with --emit, print one stage instead.")
    b.add_argument("file", nargs="?", help="the .cn program")
    b.add_argument("-t", "--target", metavar="TARGET",
                   help=f"code generation target: {', '.join(targets)} (default: llvm, or --emit's code target)")
    b.add_argument("-o", "--out-dir", metavar="DIR", dest="out_dir",
                   help=f"write the build folder (IR, generated code, manifest.json) to DIR (default: {BUILD_DIR}/)")
    b.add_argument("--output", dest="out_dir", help=argparse.SUPPRESS)  # the old spelling of -o
    b.add_argument("--emit", metavar="STAGE",
                   help=f"print the program at STAGE and stop: {', '.join(STAGES)}. The code stages print "
                        "what that target runs (llvm: LLVM IR, opencl: OpenCL C, glsl: GLSL) and imply "
                        "-t; a different -t is an error. dot: a Graphviz picture of the graph (fusion groups, "
                        "repeat loops) and the kernel schedule (buffers, host loops, swaps); svg: the same "
                        "rendered by Graphviz")
    b.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass (to stderr)")
    b.add_argument("--print-pipeline", action="store_true",
                   help="print the passes that lead to --emit's stage (default: all) for --target, "
                        "as a spec 'ccomp-opt -p' accepts, and stop (FILE is not needed)")
    b.add_argument("--save-ir", action="store_true", help="also write the IR after each stage to DIR/ir/")
    b.add_argument("--graph", metavar="NAME", help="which graph to build when the file declares several")
    b.add_argument("--no-cache", action="store_true", help="compile afresh instead of using the build cache")
    b.add_argument("--sign", metavar="KEYFILE",
                   help="sign the build folder with the secret in KEYFILE (HMAC-SHA256; make one with "
                        "'head -c 32 /dev/urandom > KEYFILE'), for 'ccomp run --build DIR --verify KEYFILE'")
    b.set_defaults(subparser=b)

    r = sub.add_parser("run", help="compile and run a program on inputs from files",
                       description="Compile FILE and run it. Images and dense tensors are PNG or .npy files, "
                                   "sparse matrices .npz files (scipy.sparse.save_npz) or dense .npy; a scalar "
                                   "input is a number, a bool input true or false; scalar outputs are printed.")
    r.add_argument("file", nargs="?", help="the .cn program (or use --build)")
    r.add_argument("--build", metavar="DIR", help="run a build folder written by 'ccomp build -o DIR' instead")
    r.add_argument("--verify", metavar="KEYFILE",
                   help="with --build: refuse the folder unless KEYFILE's key signed it ('ccomp build --sign') "
                        "and no file changed since")
    r.add_argument("--no-cache", action="store_true", help="compile afresh instead of using the build cache")
    r.add_argument("-t", "--target", metavar="TARGET",
                   help=f"where to run: {', '.join(targets)} (default: llvm; with --build, the build's "
                        "target, and a different one is an error)")
    r.add_argument("-o", "--out-dir", action="append", default=[], metavar="DIR", dest="out_dir",
                   help="also write the build folder to DIR, as 'ccomp build -o DIR' does")
    r.add_argument("--input", "-i", action="append", default=[], metavar="NAME=FILE|VALUE",
                   help="an input: an image or tensor file (.png, .npy), a sparse matrix (.npz), "
                        "a number for a scalar, true or false for a bool")
    r.add_argument("--output", action="append", default=[], metavar="NAME=FILE",
                   help="where to write an output (.png or .npy; a sparse matrix as .npz, or densified "
                        "as .npy or .png); "
                        "an unnamed output is called 'out'")
    r.add_argument("--graph", metavar="NAME", help="which graph to run when the file declares several")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar on stderr for repeat zones (default: when stderr is a terminal)")
    r.add_argument("--explain", action="store_true",
                   help="say which storage format was chosen for each 'auto' sparse input, and why")
    from ccomp.driver import profile_cli
    profile_cli.add_flags(r)
    from ccomp.driver import plot
    plot.add_flags(r)  # --plot raster.png / voltage.png
    from ccomp.driver import actor_cli
    actor_cli.add_arguments(r)  # --send TYPE=FILE.jsonl, --replies, --telemetry, --to
    from ccomp.driver import map_cli
    map_cli.add_arguments(r)  # --map GLOB --out DIR, --on ray

    sub.add_parser("targets", help="list the targets and devices available on this machine")
    from ccomp.driver import devices_cli
    devices_cli.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "build" and args.file is None and not args.print_pipeline:
        args.subparser.error("the following arguments are required: file")
    from ccomp.driver import commands

    try:
        from ccomp.driver import devices_cli, map_cli
        if args.command == "run" and map_cli.wanted(args):  # batch runs, Ray (docs/scaleout.md)
            return map_cli.run(args)
        return {"build": commands.build, "run": commands.run, "targets": commands.targets,
                "devices": devices_cli.run}[args.command](args)
    except CompileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except PassError as exc:  # raised past the pipeline (code generation): still located
        print(str(exc.to_compile_error()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the run stops between launches
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
