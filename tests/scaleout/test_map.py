"""ccomp.map and 'ccomp run --map' on Ray: 200 generated images through tonemap on two
Ray workers equal the local runs image by image; the build is loaded once per worker
(never compiled per task); a bad input fails its own item with the program's error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ccomp
from ccomp.driver.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def images(n: int, seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((6 + i % 5, 8 + i % 3, 4), dtype=np.float32) for i in range(n)]


@pytest.fixture(scope="module")
def tonemap():
    return ccomp.compile_file(EXAMPLES / "tonemap.cn", target="llvm")


def test_map_local_equals_direct_calls_and_isolates_a_bad_item(tonemap):
    ins = [{"src": im, "gain": 1.2} for im in images(5)]
    ins[2] = {"src": np.zeros((4, 4), np.float64), "gain": 1.2}  # not an image<vec4>
    res = ccomp.map(tonemap, ins, runtime="local")
    assert sorted(res.failures) == [2]
    assert "src" in res.failures[2]
    for i in (0, 1, 3, 4):
        np.testing.assert_array_equal(res.results[i], tonemap(**ins[i]))
    assert "4 of 5 item(s) ran, 1 failed" in res.summary()


def test_map_on_ray_equals_local_for_200_images(ray_session, tonemap):
    ins = [{"src": im, "gain": 1.0 + (i % 4) / 10} for i, im in enumerate(images(200))]
    ins[17] = {"src": np.zeros((3, 3, 4), np.float32), "gain": "bright"}  # a bad input: its own failure
    seen = []
    res = ccomp.map(tonemap, ins, runtime="ray", chunk_size=10, progress=lambda d, t: seen.append((d, t)))
    assert list(res.failures) == [17] and "gain" in res.failures[17]
    for i, kw in enumerate(ins):
        if i != 17:
            np.testing.assert_array_equal(res.results[i], tonemap(**kw), err_msg=f"image {i}")
    assert seen[-1] == (200, 200) and len(seen) == 20
    assert 1 <= len(res.workers) <= 2
    # each worker loaded the build once, whatever the number of tasks it ran
    from ccomp.runtime.scaleout.batch import loads_in_this_process

    loads = ray_session.get([ray_session.remote(loads_in_this_process).remote() for _ in range(4)])
    assert all(n <= 1 for n in loads)


def test_run_map_cli_on_ray(ray_session, tonemap, tmp_path, capsys):
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    ims = images(12, seed=3)
    for i, im in enumerate(ims):
        Image.fromarray((im * 255).astype(np.uint8), "RGBA").save(src / f"im{i:03d}.png")
    (src / "broken.png").write_bytes(b"not a png")
    code = main(["run", str(EXAMPLES / "tonemap.cn"), "--map", str(src / "*.png"), "--out", str(tmp_path / "out"),
                 "--input", "gain=1.3", "--on", "ray"])
    err = capsys.readouterr().err
    assert code == 1 and "12 of 13 item(s) ran, 1 failed" in err and "broken.png" in err
    for i in range(12):
        name = f"im{i:03d}.png"
        local = tmp_path / "local.png"
        assert main(["run", str(EXAMPLES / "tonemap.cn"), "--input", f"src={src / name}", "--input", "gain=1.3",
                     "--output", f"out={local}"]) == 0
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / name)), np.asarray(Image.open(local))), name


def test_run_map_cli_locally_and_its_errors(tonemap, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for i, im in enumerate(images(3)):
        np.save(src / f"a{i}.npy", im)
    prog = str(EXAMPLES / "tonemap.cn")
    assert main(["run", prog, "--map", f"src={src / '*.npy'}", "--out", str(tmp_path / "o"), "--on", "local"]) == 0
    for i, im in enumerate(images(3)):
        np.testing.assert_array_equal(np.load(tmp_path / "o" / f"a{i}.npy"), tonemap(src=im))
    capsys.readouterr()
    for argv, words in ((["--map", str(src / "*.npy"), "--out", "o", "--on", "mars"], "--on takes local, ray"),
                        (["--map", str(src / "*.npy")], "--map needs --out DIR"),
                        (["--map", str(tmp_path / "none*.png"), "--out", "o"], "no file matches"),
                        (["--map", f"dst={src / '*.npy'}", "--out", "o"], "has no input 'dst'"),
                        (["--on", "ray"], "add --map GLOB")):
        assert main(["run", prog, *argv]) == 1
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, (argv, err)


def test_import_ccomp_does_not_import_ray():
    import subprocess
    import sys

    code = "import sys, ccomp, ccomp.actors; ccomp.map; assert 'ray' not in sys.modules, 'ray imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
