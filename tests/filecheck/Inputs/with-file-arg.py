"""Run a command with one argument read from a file: lit's internal shell has no ``$(...)``.

    python with-file-arg.py SPEC_FILE ccomp-opt prog.cn -p @FILE

runs ``ccomp-opt prog.cn -p <SPEC_FILE's text>`` and exits with its status, so a RUN line
can pass what one command printed (``ccomp build --print-pipeline``) to another.
"""

import subprocess
import sys

if __name__ == "__main__":
    text = open(sys.argv[1], encoding="utf-8").read().strip()
    sys.exit(subprocess.call([text if arg == "@FILE" else arg for arg in sys.argv[2:]]))
