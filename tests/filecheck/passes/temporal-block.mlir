// RUN: ccomp-opt %s -p "temporal-block{k=3 tile=32 tile-x=64}" | filecheck %s
// RUN: ccomp-opt %s -p "temporal-block{k=0}" | filecheck %s --check-prefix=OFF
// temporal-block on hand-written L2 (as loop-pingpong and cse leave it): the loop of
// @smooth, a 3-point stencil of its state clamped to the image, runs 3 steps per
// launch of a blocked kernel over bands of 32 rows (tiles of 64 columns), then the
// remaining steps one per launch. Loops that are not stencils of their state are left alone: @shift reads
// x + 1 without a clamp (a halo could not bound it), @ramp binds the iteration index.

kern.kernel @smooth rank 2 {
^bb0(%u: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %w = memref.dim %u, %c1 : memref<?x?xf32>
  %wm1 = arith.subi %w, %c1 : index
  %xl = arith.subi %x, %c1 : index
  %xl0 = arith.maxsi %xl, %c0 : index
  %xl1 = arith.minsi %xl0, %wm1 : index
  %xr = arith.addi %x, %c1 : index
  %xr0 = arith.maxsi %xr, %c0 : index
  %xr1 = arith.minsi %xr0, %wm1 : index
  %a = memref.load %u[%y, %xl1] : memref<?x?xf32>
  %b = memref.load %u[%y, %x] : memref<?x?xf32>
  %c = memref.load %u[%y, %xr1] : memref<?x?xf32>
  %s = arith.addf %a, %b : f32
  %t = arith.addf %s, %c : f32
  memref.store %t, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}

kern.kernel @shift rank 2 {
^bb0(%u: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %c1 = arith.constant 1 : index
  %xr = arith.addi %x, %c1 : index
  %a = memref.load %u[%y, %xr] : memref<?x?xf32>
  memref.store %a, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}

kern.kernel @ramp rank 2 {
^bb0(%u: memref<?x?xf32>, %out: memref<?x?xf32>, %i: i32):
  %x = kern.index 0
  %y = kern.index 1
  %a = memref.load %u[%y, %x] : memref<?x?xf32>
  %f = arith.sitofp %i : i32 to f32
  %s = arith.addf %a, %f : f32
  memref.store %s, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}

// CHECK-LABEL: kern.kernel @smooth_tb3 rank 1 {
// CHECK-NEXT:  ^bb0(%{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xf32>, %[[SA:.*]]: memref<?x?x?xf32>, %[[SB:.*]]: memref<?x?x?xf32>):
// CHECK:         %[[BAND:.*]] = kern.index 0
//                  step 1 reads the state, writes scratch A at [band, y - y0, x - x0]
// CHECK:         scf.for
// CHECK:           memref.load %{{[0-9]+}}[%{{.*}}, %{{.*}}] : memref<?x?xf32>
// CHECK:           memref.store %{{.*}}, %[[SA]][%[[BAND]], %{{.*}}, %{{.*}}] : memref<?x?x?xf32>
//                  step 2: scratch A -> scratch B
// CHECK:           memref.load %[[SA]][%[[BAND]], %{{.*}}, %{{.*}}] : memref<?x?x?xf32>
// CHECK:           memref.store %{{.*}}, %[[SB]][%[[BAND]], %{{.*}}, %{{.*}}] : memref<?x?x?xf32>
//                  step 3: scratch B -> the next state, at the point itself
// CHECK:           memref.load %[[SB]][%[[BAND]], %{{.*}}, %{{.*}}] : memref<?x?x?xf32>
// CHECK:           memref.store %{{.*}}, %{{[0-9]+}}[%{{.*}}, %{{.*}}] : memref<?x?xf32>
// CHECK:         kern.yield
// CHECK-NOT:   kern.kernel @shift_tb
// CHECK-NOT:   kern.kernel @ramp_tb

// CHECK-LABEL: func.func @blur(
// CHECK:         %[[K:.*]] = arith.constant 3 : index
// CHECK:         %[[WHOLE:.*]] = arith.divsi %n, %[[K]] : index
// CHECK:         %[[BLOCKS:.*]] = arith.select %{{.*}}, %[[WHOLE]], %{{.*}} : index
// CHECK:         %[[DONE:.*]] = arith.muli %[[BLOCKS]], %[[K]] : index
// CHECK:         %[[REST:.*]] = arith.subi %n, %[[DONE]] : index
// CHECK:         %[[SIDE:.*]] = arith.constant 36 : index
// CHECK-NEXT:    %[[SIDEX:.*]] = arith.constant 68 : index
// CHECK:         %[[M:.*]], %[[MA:.*]], %[[MB:.*]] = scf.for %{{.*}} = %c0 to %[[BLOCKS]] step %c1 iter_args(%[[U:.*]] = %u0, %[[A:.*]] = %a, %[[B:.*]] = %b)
// CHECK-NEXT:      %[[PA:.*]] = memref.alloc(%{{.*}}, %[[SIDE]], %[[SIDEX]]) : memref<?x?x?xf32>
// CHECK-NEXT:      %[[PB:.*]] = memref.alloc(%{{.*}}, %[[SIDE]], %[[SIDEX]]) : memref<?x?x?xf32>
// CHECK-NEXT:      kern.launch @smooth_tb3[%{{.*}}] (%[[U]], %[[A]], %[[PA]], %[[PB]])
// CHECK-NEXT:      scf.yield %[[A]], %[[B]], %[[A]]
// CHECK:         %[[R:.*]], %{{.*}}, %{{.*}} = scf.for %{{.*}} = %c0 to %[[REST]] step %c1 iter_args(%{{.*}} = %[[M]], %{{.*}} = %[[MA]], %{{.*}} = %[[MB]])
// CHECK:           kern.launch @smooth[
// CHECK:         func.return %[[R]]
func.func @blur(%u0: memref<?x?xf32>, %n: index) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %h = memref.dim %u0, %c0 : memref<?x?xf32>
  %w = memref.dim %u0, %c1 : memref<?x?xf32>
  %a = memref.alloc(%h, %w) : memref<?x?xf32>
  %b = memref.alloc(%h, %w) : memref<?x?xf32>
  %r, %ra, %rb = scf.for %i = %c0 to %n step %c1 iter_args(%u = %u0, %p = %a, %q = %b) -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) {
    %uh = memref.dim %u, %c0 : memref<?x?xf32>
    %uw = memref.dim %u, %c1 : memref<?x?xf32>
    kern.launch @smooth[%uw, %uh] (%u, %p) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    scf.yield %p, %q, %p : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}

// CHECK-LABEL: func.func @shifted(
// CHECK-NOT:     _tb
// CHECK:         kern.launch @shift[
// CHECK-NOT:     _tb
// CHECK:         func.return
func.func @shifted(%u0: memref<?x?xf32>, %n: index) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %h = memref.dim %u0, %c0 : memref<?x?xf32>
  %w = memref.dim %u0, %c1 : memref<?x?xf32>
  %a = memref.alloc(%h, %w) : memref<?x?xf32>
  %b = memref.alloc(%h, %w) : memref<?x?xf32>
  %r, %ra, %rb = scf.for %i = %c0 to %n step %c1 iter_args(%u = %u0, %p = %a, %q = %b) -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) {
    %uh = memref.dim %u, %c0 : memref<?x?xf32>
    %uw = memref.dim %u, %c1 : memref<?x?xf32>
    kern.launch @shift[%uw, %uh] (%u, %p) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    scf.yield %p, %q, %p : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}

// CHECK-LABEL: func.func @ramped(
// CHECK-NOT:     _tb
// CHECK:         kern.launch @ramp[
// CHECK-NOT:     _tb
// CHECK:         func.return
func.func @ramped(%u0: memref<?x?xf32>, %n: index) -> memref<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %h = memref.dim %u0, %c0 : memref<?x?xf32>
  %w = memref.dim %u0, %c1 : memref<?x?xf32>
  %a = memref.alloc(%h, %w) : memref<?x?xf32>
  %b = memref.alloc(%h, %w) : memref<?x?xf32>
  %r, %ra, %rb = scf.for %i = %c0 to %n step %c1 iter_args(%u = %u0, %p = %a, %q = %b) -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) {
    %it = arith.index_cast %i : index to i32
    %uh = memref.dim %u, %c0 : memref<?x?xf32>
    %uw = memref.dim %u, %c1 : memref<?x?xf32>
    kern.launch @ramp[%uw, %uh] (%u, %p, %it) : (memref<?x?xf32>, memref<?x?xf32>, i32) -> ()
    scf.yield %p, %q, %p : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}

// OFF-NOT: _tb
