// RUN: ccomp-opt %s -p "graph-fuse{recompute-cost=0}" | filecheck %s
// (recompute-cost=0: stencil reads of fields are always materialised; graph-fuse-recompute.mlir covers the cost rule)
// graph-fuse: after it, every sink (capture, reduce) consumes one graph.map whose
// inputs are images, so each sink becomes exactly one kernel.

func.func @chain(%src: !graph.image<f32>, %gain: f32) -> !graph.image<f32> {
  %c = arith.constant 2.500000e-01 : f32
  %a = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    %m = arith.mulf %s, %gain : f32
    graph.yield %m : f32
  }
  %b = graph.map(%a) : (!graph.field<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %p = arith.addf %v, %c : f32
    graph.yield %p : f32
  }
  %sz = graph.size %src : !graph.image<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// A pointwise chain becomes one map over the image; the dead producers are erased.
// CHECK-LABEL: func.func @chain(%src: !graph.image<f32>, %gain: f32) -> !graph.image<f32> {
// CHECK-NEXT:    %c = arith.constant 2.500000e-01 : f32
// CHECK-NEXT:    %sz = graph.size %src : !graph.image<f32>
// CHECK-NEXT:    %[[F:.*]] = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
// CHECK-NEXT:    ^bb0(%[[S:.*]]: f32):
// CHECK-NEXT:      %[[M:.*]] = arith.mulf %[[S]], %gain : f32
// CHECK-NEXT:      %[[P:.*]] = arith.addf %[[M]], %c : f32
// CHECK-NEXT:      graph.yield %[[P]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    %o = graph.capture %[[F]], %sz : !graph.field<f32> -> !graph.image<f32>
// CHECK-NEXT:    func.return %o : !graph.image<f32>
// CHECK-NOT:     graph.map

func.func @blur_image(%src: !graph.image<f32>) -> !graph.image<f32> {
  %b = graph.blur %src radius 1 : !graph.image<f32> -> !graph.field<f32>
  %sz = graph.size %src : !graph.image<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// A blur of an image becomes its 9 neighbour reads (edges clamped by graph.load),
// summed and scaled by 1/9, in a map with no inputs.
// CHECK-LABEL: func.func @blur_image(
// CHECK-NOT:     graph.blur
// CHECK:         %[[F:.*]] = graph.map() : () -> !graph.field<f32> {
// CHECK-NEXT:      %[[X:.*]] = graph.coord 0 : i32
// CHECK-NEXT:      %[[Y:.*]] = graph.coord 1 : i32
// CHECK-NEXT:      %[[M1:.*]] = arith.constant -1 : i32
// CHECK-NEXT:      %[[XM:.*]] = arith.addi %[[X]], %[[M1]] : i32
// CHECK-NEXT:      %[[M1B:.*]] = arith.constant -1 : i32
// CHECK-NEXT:      %[[YM:.*]] = arith.addi %[[Y]], %[[M1B]] : i32
// CHECK-NEXT:      %[[T0:.*]] = graph.load %src[%[[XM]], %[[YM]]] : !graph.image<f32> -> f32
// CHECK-COUNT-7:   graph.load %src[
// CHECK:           %[[T8:.*]] = graph.load %src[%{{.*}}, %{{.*}}] : !graph.image<f32> -> f32
// CHECK-NEXT:      %[[SUM:.*]] = arith.addf %{{.*}}, %[[T8]] : f32
// CHECK-NEXT:      %[[NINTH:.*]] = arith.constant 0.111111112 : f32
// CHECK-NEXT:      %[[B:.*]] = arith.mulf %[[SUM]], %[[NINTH]] : f32
// CHECK-NEXT:      graph.yield %[[B]] : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    %o = graph.capture %[[F]], %sz : !graph.field<f32> -> !graph.image<f32>

func.func @blur_field(%src: !graph.image<f32>) -> !graph.image<f32> {
  %c = arith.constant 2.000000e+00 : f32
  %a = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    %m = arith.mulf %s, %c : f32
    graph.yield %m : f32
  }
  %b = graph.blur %a radius 1 : !graph.field<f32> -> !graph.field<f32>
  %sz = graph.size %src : !graph.image<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// A blur of an un-captured field: the field is materialised first (a new capture
// over the sink's extent, inserted before it), then read at the 9 neighbours.
// CHECK-LABEL: func.func @blur_field(
// CHECK:         %[[A:.*]] = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
// CHECK:         %[[TMP:.*]] = graph.capture %[[A]], %sz : !graph.field<f32> -> !graph.image<f32>
// CHECK-NEXT:    %[[F:.*]] = graph.map() : () -> !graph.field<f32> {
// CHECK-COUNT-9:   graph.load %[[TMP]][
// CHECK:           arith.constant 0.111111112 : f32
// CHECK:         %o = graph.capture %[[F]], %sz : !graph.field<f32> -> !graph.image<f32>
// CHECK-NOT:     graph.blur

func.func @two_sinks(%src: !graph.image<f32>) -> (!graph.image<f32>, f32) {
  %a = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    %m = arith.mulf %s, %s : f32
    graph.yield %m : f32
  }
  %b = graph.map(%a) : (!graph.field<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %r = math.sqrt %v : f32
    graph.yield %r : f32
  }
  %sz = graph.size %src : !graph.image<f32>
  %o = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  %mean = graph.reduce "mean" %b, %sz : !graph.field<f32> -> f32
  func.return %o, %mean : !graph.image<f32>, f32
}

// A field used by two sinks is duplicated into both: each becomes its own kernel.
// CHECK-LABEL: func.func @two_sinks(
// CHECK:         %[[F1:.*]] = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
// CHECK:           arith.mulf
// CHECK-NEXT:      math.sqrt
// CHECK:         %o = graph.capture %[[F1]], %sz
// CHECK-NEXT:    %[[F2:.*]] = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
// CHECK:           arith.mulf
// CHECK-NEXT:      math.sqrt
// CHECK:         %mean = graph.reduce "mean" %[[F2]], %sz

func.func @reduce_image(%src: !graph.image<vector<4xf32>>) -> vector<4xf32> {
  %sz = graph.size %src : !graph.image<vector<4xf32>>
  %r = graph.reduce "max" %src, %sz : !graph.image<vector<4xf32>> -> vector<4xf32>
  func.return %r : vector<4xf32>
}

// A reduction of an image input reads it through an identity map.
// CHECK-LABEL: func.func @reduce_image(
// CHECK-NEXT:    %sz = graph.size %src : !graph.image<vector<4xf32>>
// CHECK-NEXT:    %[[F:.*]] = graph.map(%src) : (!graph.image<vector<4xf32>>) -> !graph.field<vector<4xf32>> {
// CHECK-NEXT:    ^bb0(%[[V:.*]]: vector<4xf32>):
// CHECK-NEXT:      graph.yield %[[V]] : vector<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %r = graph.reduce "max" %[[F]], %sz : !graph.field<vector<4xf32>> -> vector<4xf32>
