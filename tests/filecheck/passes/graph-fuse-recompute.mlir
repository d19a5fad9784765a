// RUN: ccomp-opt %s -p graph-fuse | filecheck %s
// RUN: ccomp-opt %s -p "graph-fuse{recompute-cost=0}" | filecheck %s --check-prefix=MAT
// graph-fuse's cost rule for stencil reads of fields: recompute at each neighbour when
// taps * cost <= cost + recompute-cost (default 40), else materialise once.

// A 3x3 blur of a cheap field (2 ops): 9 * 3 <= 3 + 40, so the field is evaluated at
// each clamped neighbour: no capture, nine reads of the source.
// CHECK-LABEL: func.func @cheap
// CHECK-NOT:     graph.capture %{{.*}} : !graph.field<f32> -> !graph.image<f32>
// CHECK:         graph.map() : () -> !graph.field<f32> {
// CHECK-COUNT-9:   graph.load %a[
// CHECK:         graph.capture
// CHECK-NOT:     graph.capture
// MAT-LABEL:   func.func @cheap
// MAT:           %[[C:.*]] = graph.capture %{{.*}}, %{{.*}} : !graph.field<f32> -> !graph.image<f32>
// MAT:           graph.load %[[C]][
func.func @cheap(%a: !graph.image<f32>) -> !graph.image<f32> {
  %f = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %c = arith.constant 2.0 : f32
    %r = arith.mulf %v, %c : f32
    graph.yield %r : f32
  }
  %b = graph.blur %f radius 1 : !graph.field<f32> -> !graph.field<f32>
  %sz = graph.size %a : !graph.image<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// A 5x5 blur of the same field: 25 * 3 > 3 + 40, so it is materialised once.
// CHECK-LABEL: func.func @wide
// CHECK:         %[[C:.*]] = graph.capture %{{.*}}, %{{.*}} : !graph.field<f32> -> !graph.image<f32>
// CHECK-COUNT-25: graph.load %[[C]][
func.func @wide(%a: !graph.image<f32>) -> !graph.image<f32> {
  %f = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %c = arith.constant 2.0 : f32
    %r = arith.mulf %v, %c : f32
    graph.yield %r : f32
  }
  %b = graph.blur %f radius 2 : !graph.field<f32> -> !graph.field<f32>
  %sz = graph.size %a : !graph.image<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// A neighbour read of an implicitly captured field is recomputed at the clamped
// coordinate (as the capture would have been read); a capture the program asked
// for (not marked implicit) is always kept.
// CHECK-LABEL: func.func @neighbour
// CHECK:         graph.map() : () -> !graph.field<f32> {
// CHECK:           arith.maxsi
// CHECK-NEXT:      arith.minsi
// CHECK:           graph.load %a[
// CHECK:         graph.capture
// CHECK-NOT:     graph.capture
func.func @neighbour(%a: !graph.image<f32>) -> !graph.image<f32> {
  %sz = graph.size %a : !graph.image<f32>
  %f = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %r = arith.addf %v, %v : f32
    graph.yield %r : f32
  }
  %img = graph.capture %f, %sz implicit : !graph.field<f32> -> !graph.image<f32>
  %n = graph.map() : () -> !graph.field<f32> {
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %one = arith.constant 1 : i32
    %xp = arith.addi %x, %one : i32
    %l = graph.load %img[%xp, %y] : !graph.image<f32> -> f32
    graph.yield %l : f32
  }
  %o = graph.capture %n, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}
