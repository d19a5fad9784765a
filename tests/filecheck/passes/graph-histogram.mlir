// RUN: ccomp-opt %s -p graph-fuse,graph-schedule | filecheck %s --check-prefix=FUSED
// RUN: ccomp-opt %s -p graph-fuse,graph-schedule,graph-to-kern | filecheck %s
// A histogram is a sink: graph-fuse gives it one map, graph-schedule a group of its own
// (never merged with the capture of the same extent), graph-to-kern checks and widens
// the range on the host, zeroes the counters with a rank-1 kernel and counts with
// kern.atomic_add inside an in-range test.

func.func @h(%src: !graph.image<f32>, %lo: f32, %hi: f32) -> (!graph.image<f32>, tensor<16xi32>) {
  %two = arith.constant 2.000000e+00 : f32
  %v = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%a: f32):
    %b = arith.mulf %a, %two : f32
    graph.yield %b : f32
  }
  %sz = graph.size %src : !graph.image<f32>
  %img = graph.capture %v, %sz : !graph.field<f32> -> !graph.image<f32>
  %h = graph.histogram %v, %sz, %lo, %hi bins 16 : !graph.field<f32> -> tensor<16xi32>
  func.return %img, %h : !graph.image<f32>, tensor<16xi32>
}

// FUSED: graph.capture %{{.*}}, %sz group 0
// FUSED: graph.histogram %{{.*}}, %sz, %lo, %hi bins 16 group 1 : !graph.field<f32> -> tensor<16xi32>

// CHECK:      kern.kernel @h_1 rank 1 {
// CHECK-NEXT: ^{{.*}}(%{{.*}}: memref<?xi32>):
// CHECK:        memref.store %{{.*}}, %{{.*}}[%{{.*}}] : memref<?xi32>
// CHECK:      kern.kernel @h_2 rank 2 {
// CHECK-NEXT: ^{{.*}}(%{{.*}}: memref<?x?xf32>, %[[LO:.*]]: f32, %[[HI:.*]]: f32, %[[STEP:.*]]: f32, %[[BINS:.*]]: memref<?xi32>):
// CHECK:        %[[X:.*]] = arith.mulf
// CHECK:        arith.cmpf oge, %[[X]], %[[LO]] : f32
// CHECK:        arith.cmpf ole, %[[X]], %[[HI]] : f32
// CHECK:        scf.if
// CHECK:          arith.fptosi
// CHECK:          arith.mulf %{{.*}}, %[[STEP]] : f32
// CHECK:          kern.atomic_add %{{.*}}, %[[BINS]][%{{.*}}] : memref<?xi32>
// CHECK:      func.func @h(%src: memref<?x?xf32>, %lo: f32, %hi: f32) -> (memref<?x?xf32>, memref<?xi32>) {
// CHECK:        kern.check %{{.*}}, "histogram() range [{0}, {1}] is not finite"(%lo, %hi : f32, f32)
// CHECK:        kern.check %{{.*}}, "histogram() needs lo <= hi, got lo = {0}, hi = {1}"(%lo, %hi : f32, f32)
// CHECK:        kern.check %{{.*}}, "histogram() range [{0}, {1}] is wider than f32 can hold"(%lo, %hi : f32, f32)
// CHECK:        %[[N:.*]] = arith.constant 16 : index
// CHECK:        %[[C:.*]] = memref.alloc(%[[N]]) : memref<?xi32>
// CHECK:        kern.launch @h_1[%[[N]]] (%[[C]]) : (memref<?xi32>) -> ()
// CHECK:        kern.launch @h_2[%{{.*}}, %{{.*}}] (%src, %{{.*}}, %{{.*}}, %{{.*}}, %[[C]])
// CHECK:        func.return %{{.*}}, %[[C]] : memref<?x?xf32>, memref<?xi32>
