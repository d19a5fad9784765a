"""The work estimate both the profiler and ``partition-devices`` use
(``dialects/kern_cost.py``), and the time model of ``dialects/cost_model.py``."""

from __future__ import annotations

import pytest
from xdsl.parser import Parser

from ccomp.dialects.context import make_context
from ccomp.dialects.cost_model import DeviceProfile, migration_seconds
from ccomp.dialects.kern_cost import LOOP_TRIPS, module_costs

KERNELS = """
kern.kernel @stencil rank 2 {
^bb0(%u: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %c1 = arith.constant 1 : index
  %xl = arith.subi %x, %c1 : index
  %a = memref.load %u[%y, %xl] : memref<?x?xf32>
  %b = memref.load %u[%y, %x] : memref<?x?xf32>
  %s = arith.addf %a, %b : f32
  %f = math.fma %s, %a, %b : f32
  memref.store %f, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}
kern.kernel @own rank 2 {
^bb0(%u: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %a = memref.load %u[%y, %x] : memref<?x?xvector<4xf32>>
  %s = arith.mulf %a, %a : vector<4xf32>
  memref.store %s, %out[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}
kern.kernel @rows rank 1 {
^bb0(%v: memref<?xf32>, %out: memref<?xf32>, %n: index):
  %i = kern.index 0
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %t = scf.for %j = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> (f32) {
    %inner = scf.for %k = %c0 to %n step %c1 iter_args(%acc2 = %acc) -> (f32) {
      %e = memref.load %v[%k] : memref<?xf32>
      %p = arith.addf %acc2, %e : f32
      scf.yield %p : f32
    }
    scf.yield %inner : f32
  }
  memref.store %t, %out[%i] : memref<?xf32>
  kern.yield
}
"""


@pytest.fixture(scope="module")
def costs():
    return module_costs(Parser(make_context(), KERNELS).parse_module())


def test_stencil_counts_each_buffer_once_and_fma_twice(costs) -> None:
    c = costs["stencil"]
    assert (c.flops, c.bytes, c.depth, c.gathers) == (3.0, 8.0, 0, True)  # addf + fma; 4 B in, 4 B out
    assert c.launch(100) == (300.0, 800.0)


def test_vector_lanes_and_own_element(costs) -> None:
    c = costs["own"]
    assert (c.flops, c.bytes, c.gathers) == (4.0, 32.0, False)  # 4 lanes; 16 B in, 16 B out


def test_loops_weigh_static_trips_or_loop_trips(costs) -> None:
    c = costs["rows"]
    assert c.depth == 2 and c.gathers
    assert c.flops == 8 * LOOP_TRIPS  # 8 static trips times a run-time bound
    assert c.bytes == 8 * LOOP_TRIPS * 4 + 4  # the loads in the loops, the store once


def test_roofline_and_migration() -> None:
    gpu = DeviceProfile("opencl", bandwidth_gbps=100, gflops=1000, launch_us=10, transfer_gbps=10, stencil_gbps=20)
    cpu = DeviceProfile("llvm", bandwidth_gbps=10, gflops=100, launch_us=1, transfer_gbps=None)
    assert gpu.kernel_seconds(1e9, 1e6) == pytest.approx(10e-6 + 1e-3)  # compute-bound
    assert gpu.kernel_seconds(1e3, 1e9) == pytest.approx(10e-6 + 1e-2)  # memory-bound
    assert gpu.kernel_seconds(1e3, 1e9, gathers=True) == pytest.approx(10e-6 + 5e-2)  # at the stencil rate
    assert cpu.kernel_seconds(1e3, 1e9, gathers=True) == pytest.approx(1e-6 + 1e-1)  # no stencil rate: bandwidth
    assert migration_seconds(1e9, cpu, gpu) == pytest.approx(0.1)  # only the device side copies
    assert migration_seconds(1e9, gpu, gpu) == 0.0
