// RUN: ccomp-opt %s -p loop-pingpong | filecheck %s
// loop-pingpong on hand-written L2: every loop.repeat becomes an scf.for. State whose
// next buffer has its own size is double-buffered (two allocations before the loop,
// rotating roles); state that changes size keeps its per-iteration allocation; scalar
// state is carried as is. The iteration index becomes an index_cast of the induction
// variable.

kern.kernel @step rank 2 {
^bb0(%in: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %in[%y, %x] : memref<?x?xf32>
  memref.store %v, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}

func.func @heat(%u0: memref<?x?xf32>, %n: i32) -> memref<?x?xf32> {
  %r = loop.repeat %n(%u0) : (memref<?x?xf32>) -> memref<?x?xf32> {
  ^bb0(%i: i32, %u: memref<?x?xf32>):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %h = memref.dim %u, %c0 : memref<?x?xf32>
    %w = memref.dim %u, %c1 : memref<?x?xf32>
    %next = memref.alloc(%h, %w) : memref<?x?xf32>
    kern.launch @step[%w, %h] (%u, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    loop.yield %next : memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}

// Fixed size: two buffers of the initial state's dims before the loop; each iteration
// reads the current state and writes the spare, then (cur, a, b) <- (a, b, a). The
// first iteration reads %u0, so the input is never written; zero iterations return it.
// CHECK-LABEL: func.func @heat(%u0: memref<?x?xf32>, %n: i32) -> memref<?x?xf32> {
// CHECK-NEXT:    %[[C0:[0-9]+]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C1:[0-9]+]] = arith.constant 1 : index
// CHECK-NEXT:    %[[N:[0-9]+]] = arith.index_cast %n : i32 to index
// CHECK:         %[[H:[0-9]+]] = memref.dim %u0, %{{[0-9]+}} : memref<?x?xf32>
// CHECK:         %[[W:[0-9]+]] = memref.dim %u0, %{{[0-9]+}} : memref<?x?xf32>
// CHECK-NEXT:    %[[A:[0-9]+]] = memref.alloc(%[[H]], %[[W]]) : memref<?x?xf32>
// CHECK-NEXT:    %[[B:[0-9]+]] = memref.alloc(%[[H]], %[[W]]) : memref<?x?xf32>
// CHECK-NEXT:    %[[R:[a-z0-9_]+]], %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} = scf.for %[[IV:[0-9]+]] = %[[C0]] to %[[N]] step %[[C1]]
// CHECK-SAME:        iter_args(%[[CUR:[a-z0-9_]+]] = %u0, %[[X:[a-z0-9_]+]] = %[[A]], %[[Y:[a-z0-9_]+]] = %[[B]])
// CHECK-SAME:        -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) {
// CHECK-NEXT:      %i = arith.index_cast %[[IV]] : index to i32
// CHECK-NOT:       memref.alloc
// CHECK:           kern.launch @step[%w, %h] (%[[CUR]], %[[X]]) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
// CHECK-NEXT:      scf.yield %[[X]], %[[Y]], %[[X]] : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R]] : memref<?x?xf32>

func.func @shrink(%src: memref<?x?xf32>, %n: i32) -> memref<?x?xf32> {
  %r = loop.repeat %n(%src) : (memref<?x?xf32>) -> memref<?x?xf32> {
  ^bb0(%i: i32, %p: memref<?x?xf32>):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %h = memref.dim %p, %c0 : memref<?x?xf32>
    %w = memref.dim %p, %c1 : memref<?x?xf32>
    %h2 = arith.divsi %h, %c2 : index
    %w2 = arith.divsi %w, %c2 : index
    %next = memref.alloc(%h2, %w2) : memref<?x?xf32>
    kern.launch @step[%w2, %h2] (%p, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    loop.yield %next : memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}

// The next state's size is not the state's own: it is allocated every iteration,
// sized afresh (the runtime's pool recycles those buffers), and carried alone.
// CHECK-LABEL: func.func @shrink(%src: memref<?x?xf32>, %n: i32) -> memref<?x?xf32> {
// CHECK-NOT:     memref.alloc
// CHECK:         %[[R:[a-z0-9_]+]] = scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%p = %src) -> (memref<?x?xf32>) {
// CHECK:           %h2 = arith.divsi %h, %c2 : index
// CHECK-NEXT:      %w2 = arith.divsi %w, %c2 : index
// CHECK-NEXT:      %next = memref.alloc(%h2, %w2) : memref<?x?xf32>
// CHECK-NEXT:      kern.launch @step[%w2, %h2] (%p, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
// CHECK-NEXT:      scf.yield %next : memref<?x?xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R]] : memref<?x?xf32>

func.func @count(%n: i32) -> (i32, f32) {
  %z = arith.constant 0 : i32
  %f = arith.constant 1.0 : f32
  %r:2 = loop.repeat %n(%z, %f) : (i32, f32) -> (i32, f32) {
  ^bb0(%i: i32, %k: i32, %s: f32):
    %k1 = arith.addi %k, %i : i32
    %h = arith.constant 0.5 : f32
    %s1 = arith.mulf %s, %h : f32
    loop.yield %k1, %s1 : i32, f32
  }
  func.return %r#0, %r#1 : i32, f32
}

// Scalars are loop-carried values: one iter_arg each, yielded as computed.
// CHECK-LABEL: func.func @count(%n: i32) -> (i32, f32) {
// CHECK-NOT:     memref.alloc
// CHECK:         %[[K:[a-z0-9_]+]], %[[S:[a-z0-9_]+]] = scf.for %[[IV:[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%k = %z, %s = %f) -> (i32, f32) {
// CHECK-NEXT:      %i = arith.index_cast %[[IV]] : index to i32
// CHECK-NEXT:      %k1 = arith.addi %k, %i : i32
// CHECK-NEXT:      %h = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:      %s1 = arith.mulf %s, %h : f32
// CHECK-NEXT:      scf.yield %k1, %s1 : i32, f32
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[K]], %[[S]] : i32, f32

func.func @mixed(%u0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, f32) {
  %f = arith.constant 0.0 : f32
  %r:2 = loop.repeat %n(%u0, %f) : (memref<?x?xf32>, f32) -> (memref<?x?xf32>, f32) {
  ^bb0(%i: i32, %u: memref<?x?xf32>, %t: f32):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %h = memref.dim %u, %c0 : memref<?x?xf32>
    %w = memref.dim %u, %c1 : memref<?x?xf32>
    %next = memref.alloc(%h, %w) : memref<?x?xf32>
    kern.launch @step[%w, %h] (%u, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    %fi = arith.sitofp %i : i32 to f32
    %t1 = arith.addf %t, %fi : f32
    loop.yield %next, %t1 : memref<?x?xf32>, f32
  }
  func.return %r#0, %r#1 : memref<?x?xf32>, f32
}

// An image and a scalar: the image takes three iter_args, the scalar one, in order.
// CHECK-LABEL: func.func @mixed(%u0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, f32) {
// CHECK:         %[[A:[0-9]+]] = memref.alloc
// CHECK-NEXT:    %[[B:[0-9]+]] = memref.alloc
// CHECK-NEXT:    %[[R:[a-z0-9_]+]], %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %[[T:[a-z0-9_]+]] = scf.for
// CHECK-SAME:        iter_args(%u = %u0, %[[X:[a-z0-9_]+]] = %[[A]], %[[Y:[a-z0-9_]+]] = %[[B]], %t = %f)
// CHECK-SAME:        -> (memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, f32) {
// CHECK:           kern.launch @step[%w, %h] (%u, %[[X]])
// CHECK:           %t1 = arith.addf %t, %fi : f32
// CHECK-NEXT:      scf.yield %[[X]], %[[Y]], %[[X]], %t1 : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>, f32
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R]], %[[T]] : memref<?x?xf32>, f32

func.func @nested(%u0: memref<?x?xf32>, %n: i32, %m: i32) -> memref<?x?xf32> {
  %r = loop.repeat %n(%u0) : (memref<?x?xf32>) -> memref<?x?xf32> {
  ^bb0(%i: i32, %a: memref<?x?xf32>):
    %in = loop.repeat %m(%a) : (memref<?x?xf32>) -> memref<?x?xf32> {
    ^bb1(%j: i32, %c: memref<?x?xf32>):
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %h = memref.dim %c, %c0 : memref<?x?xf32>
      %w = memref.dim %c, %c1 : memref<?x?xf32>
      %next = memref.alloc(%h, %w) : memref<?x?xf32>
      kern.launch @step[%w, %h] (%c, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
      loop.yield %next : memref<?x?xf32>
    }
    loop.yield %in : memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}

// Nested zones: nested scf.for. The inner zone is double-buffered inside the outer
// body; the outer state is the inner loop's result (no buffer of its own to swap).
// CHECK-LABEL: func.func @nested(%u0: memref<?x?xf32>, %n: i32, %m: i32) -> memref<?x?xf32> {
// CHECK-NOT:     memref.alloc
// CHECK:         %[[R:[a-z0-9_]+]] = scf.for %[[I:[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%a = %u0) -> (memref<?x?xf32>) {
// CHECK-NEXT:      %i = arith.index_cast %[[I]] : index to i32
// CHECK:           %[[M:[0-9]+]] = arith.index_cast %m : i32 to index
// CHECK:           %[[A:[0-9]+]] = memref.alloc(%{{[0-9]+}}, %{{[0-9]+}}) : memref<?x?xf32>
// CHECK-NEXT:      %[[B:[0-9]+]] = memref.alloc(%{{[0-9]+}}, %{{[0-9]+}}) : memref<?x?xf32>
// CHECK-NEXT:      %[[IN:[a-z0-9_]+]], %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} = scf.for %[[J:[0-9]+]] = %{{[0-9]+}} to %[[M]] step %{{[0-9]+}}
// CHECK-SAME:          iter_args(%c = %a, %[[X:[a-z0-9_]+]] = %[[A]], %[[Y:[a-z0-9_]+]] = %[[B]])
// CHECK-NEXT:        %j = arith.index_cast %[[J]] : index to i32
// CHECK-NOT:         memref.alloc
// CHECK:             kern.launch @step[%w, %h] (%c, %[[X]])
// CHECK-NEXT:        scf.yield %[[X]], %[[Y]], %[[X]] : memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[IN]] : memref<?x?xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[R]] : memref<?x?xf32>
// CHECK-NOT:     loop.repeat

func.func @twice(%u0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, memref<?x?xf32>) {
  %r:2 = loop.repeat %n(%u0, %u0) : (memref<?x?xf32>, memref<?x?xf32>) -> (memref<?x?xf32>, memref<?x?xf32>) {
  ^bb0(%i: i32, %u: memref<?x?xf32>, %v: memref<?x?xf32>):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %h = memref.dim %u, %c0 : memref<?x?xf32>
    %w = memref.dim %u, %c1 : memref<?x?xf32>
    %next = memref.alloc(%h, %w) : memref<?x?xf32>
    kern.launch @step[%w, %h] (%u, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    loop.yield %next, %next : memref<?x?xf32>, memref<?x?xf32>
  }
  func.return %r#0, %r#1 : memref<?x?xf32>, memref<?x?xf32>
}

// One buffer yielded as two states is not double-buffered: ping-pong would overwrite
// it while the other state still holds it. (This used to leave the erased allocation
// in the scf.yield.)
// CHECK-LABEL: func.func @twice(%u0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, memref<?x?xf32>) {
// CHECK-NOT:     memref.alloc
// CHECK:         scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%u = %u0, %v = %u0) -> (memref<?x?xf32>, memref<?x?xf32>) {
// CHECK:           %next = memref.alloc(%h, %w) : memref<?x?xf32>
// CHECK-NEXT:      kern.launch @step[%w, %h] (%u, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
// CHECK-NEXT:      scf.yield %next, %next : memref<?x?xf32>, memref<?x?xf32>

func.func @lag(%u0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, memref<?x?xf32>) {
  %r:2 = loop.repeat %n(%u0, %u0) : (memref<?x?xf32>, memref<?x?xf32>) -> (memref<?x?xf32>, memref<?x?xf32>) {
  ^bb0(%i: i32, %u: memref<?x?xf32>, %v: memref<?x?xf32>):
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %h = memref.dim %u, %c0 : memref<?x?xf32>
    %w = memref.dim %u, %c1 : memref<?x?xf32>
    %next = memref.alloc(%h, %w) : memref<?x?xf32>
    kern.launch @step[%w, %h] (%u, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
    loop.yield %next, %u : memref<?x?xf32>, memref<?x?xf32>
  }
  func.return %r#0, %r#1 : memref<?x?xf32>, memref<?x?xf32>
}

// A state passed on as another state (%v = the previous %u) outlives its iteration,
// so it keeps per-iteration buffers; the yield names the new loop's block arguments.
// CHECK-LABEL: func.func @lag(%u0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, memref<?x?xf32>) {
// CHECK-NOT:     memref.alloc
// CHECK:         scf.for %{{[0-9]+}} = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%u = %u0, %v = %u0) -> (memref<?x?xf32>, memref<?x?xf32>) {
// CHECK:           %next = memref.alloc(%h, %w) : memref<?x?xf32>
// CHECK-NEXT:      kern.launch @step[%w, %h] (%u, %next) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
// CHECK-NEXT:      scf.yield %next, %u : memref<?x?xf32>, memref<?x?xf32>

func.func @swap(%a0: memref<?x?xf32>, %b0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, memref<?x?xf32>) {
  %r:2 = loop.repeat %n(%a0, %b0) : (memref<?x?xf32>, memref<?x?xf32>) -> (memref<?x?xf32>, memref<?x?xf32>) {
  ^bb0(%i: i32, %a: memref<?x?xf32>, %b: memref<?x?xf32>):
    loop.yield %b, %a : memref<?x?xf32>, memref<?x?xf32>
  }
  func.return %r#0, %r#1 : memref<?x?xf32>, memref<?x?xf32>
}

// States that yield each other's arguments: the scf.yield uses the scf.for's own
// block arguments (it used to keep the erased loop.repeat's and fail to verify).
// CHECK-LABEL: func.func @swap(%a0: memref<?x?xf32>, %b0: memref<?x?xf32>, %n: i32) -> (memref<?x?xf32>, memref<?x?xf32>) {
// CHECK:         %[[RA:[a-z0-9_]+]], %[[RB:[a-z0-9_]+]] = scf.for %[[IV:[0-9]+]] = %{{[0-9]+}} to %{{[0-9]+}} step %{{[0-9]+}} iter_args(%a = %a0, %b = %b0) -> (memref<?x?xf32>, memref<?x?xf32>) {
// CHECK-NEXT:      %i = arith.index_cast %[[IV]] : index to i32
// CHECK-NEXT:      scf.yield %b, %a : memref<?x?xf32>, memref<?x?xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[RA]], %[[RB]] : memref<?x?xf32>, memref<?x?xf32>
