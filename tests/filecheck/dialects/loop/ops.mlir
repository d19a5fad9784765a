// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s

// CHECK-LABEL: func.func @zone
// CHECK:       %{{.*}}, %{{.*}} = loop.repeat %n(%u0, %s0) : (!graph.image<f32>, f32) -> (!graph.image<f32>, f32) {
// CHECK-NEXT:  ^bb0(%i: i32, %u: !graph.image<f32>, %s: f32):
// CHECK:         loop.yield %u, %{{.*}} : !graph.image<f32>, f32
// CHECK-NEXT:  }
func.func @zone(%u0: !graph.image<f32>, %s0: f32, %n: i32) -> (!graph.image<f32>, f32) {
  %r:2 = loop.repeat %n (%u0, %s0) : (!graph.image<f32>, f32) -> (!graph.image<f32>, f32) {
  ^bb0(%i: i32, %u: !graph.image<f32>, %s: f32):
    %f = arith.sitofp %i : i32 to f32
    %t = arith.addf %s, %f : f32
    loop.yield %u, %t : !graph.image<f32>, f32
  }
  func.return %r#0, %r#1 : !graph.image<f32>, f32
}

// The same op carries buffers once graph-to-kern has run.
// CHECK-LABEL: func.func @buffers
// CHECK:       loop.repeat %n(%b) : (memref<?x?xf32>) -> memref<?x?xf32> {
func.func @buffers(%b: memref<?x?xf32>, %n: i32) -> memref<?x?xf32> {
  %r = loop.repeat %n (%b) : (memref<?x?xf32>) -> memref<?x?xf32> {
  ^bb0(%i: i32, %x: memref<?x?xf32>):
    loop.yield %x : memref<?x?xf32>
  }
  func.return %r : memref<?x?xf32>
}
