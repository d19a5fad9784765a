// RUN: ccomp-opt %s -p 'partition-devices{profiles="%S/Inputs/fast-gpu.json" split=0}' | filecheck %s
// RUN: ccomp-opt %s -p 'partition-devices' | filecheck %s --check-prefix=NONE
// Placement by estimated time against injected profiles (Inputs/fast-gpu.json: a
// device 40x the CPU's bandwidth behind a 12.5 GB/s link and 20 us launches).
// @small (8x8 points) stays on the CPU: 20 us of launch dwarfs its work.
// @big (4096x4096) moves to the device, its input migrating there first (64 MiB,
// counted); @after reads what @big wrote on the device, so nothing moves for it.
// Without profiles every launch stays on llvm.

kern.kernel @scale rank 2 {
^bb0(%in: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %in[%y, %x] : memref<?x?xf32>
  %k = arith.constant 2.0 : f32
  %r = arith.mulf %v, %k : f32
  memref.store %r, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}
kern.kernel @big rank 2 {
^bb0(%in: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %in[%y, %x] : memref<?x?xf32>
  %r = arith.mulf %v, %v : f32
  memref.store %r, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}
kern.kernel @after rank 2 {
^bb0(%in: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %in[%y, %x] : memref<?x?xf32>
  %r = arith.addf %v, %v : f32
  memref.store %r, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}

// CHECK-LABEL: func.func @small
// CHECK: kern.launch @scale[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}) {device = "llvm", estimate = {llvm = {{.*}} : f64, opencl = {{.*}} : f64}, migrate = [], transfer_bytes = 0 : i64}
// NONE-LABEL: func.func @small
// NONE: kern.launch @scale{{.*}} {device = "llvm"}
func.func @small(%a: memref<?x?xf32>) -> memref<?x?xf32> {
  %c8 = arith.constant 8 : index
  %o = memref.alloc(%c8, %c8) : memref<?x?xf32>
  kern.launch @scale[%c8, %c8] (%a, %o) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
  func.return %o : memref<?x?xf32>
}

// CHECK-LABEL: func.func @large
// CHECK: kern.launch @big[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}) {device = "opencl", estimate = {{.*}}, migrate = [0 : i64], transfer_bytes = 67108864 : i64}
// CHECK: kern.launch @after[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}) {device = "opencl", estimate = {{.*}}, migrate = [], transfer_bytes = 0 : i64}
// NONE-LABEL: func.func @large
// NONE: kern.launch @big{{.*}} {device = "llvm"}
// NONE: kern.launch @after{{.*}} {device = "llvm"}
func.func @large(%a: memref<?x?xf32>) -> memref<?x?xf32> {
  %n = arith.constant 4096 : index
  %t = memref.alloc(%n, %n) : memref<?x?xf32>
  %o = memref.alloc(%n, %n) : memref<?x?xf32>
  kern.launch @big[%n, %n] (%a, %t) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
  kern.launch @after[%n, %n] (%t, %o) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
  func.return %o : memref<?x?xf32>
}
