// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// Volumes: the extent type (vector<3xi32>) of graph.size and of a sink's size operand
// is inferred from the grid type, so 3-D IR needs no syntax beyond its types.

// CHECK-LABEL: func.func @volume
func.func @volume(%v: !graph.volume<f32>) -> (!graph.volume<f32>, f32) {
  // CHECK: %{{.*}} = graph.size %v : !graph.volume<f32>
  // GENERIC: "graph.size"(%{{.*}}) : (!graph.volume<f32>) -> vector<3xi32>
  %sz = graph.size %v : !graph.volume<f32>
  // CHECK: graph.map(%v) : (!graph.volume<f32>) -> !graph.volume_field<f32> {
  %m = graph.map(%v) : (!graph.volume<f32>) -> !graph.volume_field<f32> {
  ^bb0(%a: f32):
    // CHECK: graph.coord 2 : i32
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %z = graph.coord 2 : i32
    // CHECK: graph.load %v[%{{.*}}, %{{.*}}, %{{.*}}] : !graph.volume<f32> -> f32
    %l = graph.load %v[%x, %y, %z] : !graph.volume<f32> -> f32
    %s = arith.addf %a, %l : f32
    graph.yield %s : f32
  }
  // CHECK: graph.capture %{{.*}}, %{{.*}} : !graph.volume_field<f32> -> !graph.volume<f32>
  // GENERIC: "graph.capture"(%{{.*}}, %{{.*}}) : (!graph.volume_field<f32>, vector<3xi32>) -> !graph.volume<f32>
  %c = graph.capture %m, %sz : !graph.volume_field<f32> -> !graph.volume<f32>
  // CHECK: graph.reduce "add" %{{.*}}, %{{.*}} : !graph.volume_field<f32> -> f32
  %r = graph.reduce "add" %m, %sz : !graph.volume_field<f32> -> f32
  func.return %c, %r : !graph.volume<f32>, f32
}

// A volume is sampled at vector<3xf32>, inferred from its type like the extent.
// CHECK-LABEL: func.func @volume_sample
func.func @volume_sample(%v: !graph.volume<f32>, %img: !graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map() : () -> !graph.field<f32> {
    %c = arith.constant dense<0.5> : vector<3xf32>
    // CHECK: graph.sample %v, %{{.*}} : !graph.volume<f32> -> f32
    // GENERIC: "graph.sample"(%{{.*}}, %{{.*}}) : (!graph.volume<f32>, vector<3xf32>) -> f32
    %s = graph.sample %v, %c : !graph.volume<f32> -> f32
    graph.yield %s : f32
  }
  func.return %m : !graph.field<f32>
}
