"""A build folder tampered with through its files and manifest (issue 15): paths that
leave the folder, symlinks, special files listed (a FIFO, /dev/zero, a directory, a huge
file), malformed and garbage manifests, IR and LLVM text that does not parse. Each must
be one ``BuildError`` naming the problem — never another exception, never a hang."""

from __future__ import annotations

import json
import os
import threading

import pytest

from ccomp.runtime.build import BuildError, read_build
from tamperutil import TWO_INPUTS, edit, make_build, manifest_of, refused, write_manifest


# ---- paths and files -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["../outside.cl", "/etc/passwd", "kernels/../../x", "/dev/zero", "./program.cn",
                                  "a\\b", "kernels//x"])
def test_files_outside_the_folder_are_refused(tmp_path, name):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, "opencl")
    (tmp_path / "outside.cl").write_text("secret")
    manifest = manifest_of(folder)
    manifest["files"][name] = "0" * 64
    write_manifest(folder, manifest)
    refused(folder, "refused: files")


@pytest.mark.parametrize("rel,target", [("kernels/g_0.cl", "opencl"), ("kernels.ll", "llvm"), ("program.cn", "glsl")])
@pytest.mark.parametrize("to", ["/etc/passwd", "/dev/zero", "outside"])
def test_symlinks_out_of_the_folder_are_refused(tmp_path, rel, target, to):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, target)
    (tmp_path / "outside").write_text((folder / rel).read_text())
    (folder / rel).unlink()
    (folder / rel).symlink_to(tmp_path / "outside" if to == "outside" else to)
    refused(folder, "symbolic link")


def test_a_symlinked_kernels_folder_is_refused(tmp_path):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, "opencl")
    (folder / "kernels").rename(tmp_path / "elsewhere")
    (folder / "kernels").symlink_to(tmp_path / "elsewhere")
    refused(folder, "symbolic link")


def _within(seconds: float, fn) -> object:
    """``fn()``'s result or exception, failing the test if it takes longer than ``seconds``
    (a daemon thread: a hang cannot stop the test run)."""
    box: dict[str, object] = {}

    def work():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 — handed back to the test
            box["error"] = exc
    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s: a hang"
    return box


@pytest.mark.parametrize("kind", ["fifo", "devzero", "directory", "huge"])
def test_special_files_listed_do_not_hang_or_exhaust_memory(tmp_path, kind):
    folder = tmp_path / "b"
    make_build(folder, TWO_INPUTS, "opencl")
    path = folder / "kernels" / "g_0.cl"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    else:
        with open(path, "wb") as f:  # sparse: 300 MB on paper, nothing on disk
            f.truncate(300 << 20)
    box = _within(20, lambda: read_build(folder))
    assert isinstance(box.get("error"), BuildError), box
    assert "g_0.cl" in str(box["error"])


# ---- malformed manifests -------------------------------------------------------------

def _deep(n: int):
    value: list = []
    for _ in range(n):
        value = [value]
    return value


MUTATIONS = {
    **{f"missing {key}": (lambda m, key=key: m.pop(key)) for key in
       ["format", "version", "target", "graph", "source", "inputs", "kernels", "schedule", "files"]},
    "kernels is a string": lambda m: m.update(kernels="x"),
    "files is a list": lambda m: m.update(files=[]),
    "files maps to numbers": lambda m: m["files"].update({"program.cn": 7}),
    "bindings missing": lambda m: m["kernels"][0].pop("bindings"),
    "binding is null": lambda m: m["kernels"][0]["bindings"].__setitem__(0, None),
    "dims not a list": lambda m: m["kernels"][0]["bindings"][0].update(dims=5),
    "zero local size": lambda m: m["kernels"][0].update(local_size=[0]),
    "zero rank": lambda m: m["kernels"][0].update(rank=0),
    "zero coarsen": lambda m: m["kernels"][0].update(coarsen=0),
    "huge local size": lambda m: m["kernels"][0].update(local_size=[1 << 40]),
    "wrong rank": lambda m: m["kernels"][0].update(rank=3),
    "version as text": lambda m: m.update(version="2"),
    "unknown target": lambda m: m.update(target="cuda"),
    "graph not defined": lambda m: m.update(graph="nothere"),
    "line not a number": lambda m: m["inputs"][0].update(line="one"),
    "deep schedule": lambda m: m.update(schedule=_deep(100)),
    "very deep schedule": lambda m: None,
    "deep nested steps": lambda m: m.update(schedule=[{"op": "for", "body": _deep(60)}]),
    "kernel listed twice": lambda m: m["kernels"].append(m["kernels"][0]),
    "kernel file unlisted": lambda m: m["kernels"][0].update(file="kernels/none.cl"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_malformed_manifests_are_clean_errors(tmp_path, mutation):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    manifest = manifest_of(tmp_path)
    MUTATIONS[mutation](manifest)
    if mutation == "very deep schedule":  # past what json.dumps itself can write
        text = json.dumps({**manifest, "schedule": None}).replace('"schedule": null', '"schedule": ' + "[" * 100000 + "]" * 100000)
        (tmp_path / "manifest.json").write_text(text)
    else:
        write_manifest(tmp_path, manifest)
    refused(tmp_path)


def test_a_parameter_line_past_the_program_is_dropped_not_trusted(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    manifest = manifest_of(tmp_path)
    manifest["inputs"][0].update(line=10**9)
    write_manifest(tmp_path, manifest)
    assert "a" not in read_build(tmp_path).param_locs


@pytest.mark.parametrize("data", [b"", b"not json", b"\xff\xfe", b"null", b"{}", b"[]", b'{"format": "ccomp-build"}'])
def test_garbage_manifests_are_clean_errors(tmp_path, data):
    make_build(tmp_path, TWO_INPUTS, "opencl")
    (tmp_path / "manifest.json").write_bytes(data)
    refused(tmp_path)


def test_host_mlir_that_does_not_parse_is_a_clean_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "llvm")
    edit(tmp_path, "host.mlir", lambda t: t.replace("kern.launch", "kern.lunch"))
    refused(tmp_path, "invalid host.mlir")
    edit(tmp_path, "host.mlir", lambda t: "(" * 50000)
    refused(tmp_path)


def test_llvm_module_that_does_not_parse_is_a_clean_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "llvm")
    edit(tmp_path, "kernels.ll", lambda t: t + "\ngarbage\n")
    refused(tmp_path, "not valid LLVM IR")


def test_llvm_module_calling_a_missing_function_is_a_clean_error(tmp_path):
    make_build(tmp_path, TWO_INPUTS, "llvm")
    edit(tmp_path, "kernels.ll", lambda t: t + "\ndeclare void @ccomp_no_such_symbol()\n"
         "define void @ccomp_caller() {\n  call void @ccomp_no_such_symbol()\n  ret void\n}\n")
    refused(tmp_path, "ccomp_no_such_symbol")
