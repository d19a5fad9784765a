// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s

// CHECK-LABEL: func.func @ops
func.func @ops(%src: !graph.image<f32>, %img4: !graph.image<vector<4xf32>>, %g: f32) -> (!graph.image<f32>, f32) {
  // CHECK: %{{.*}} = graph.blur %src radius 2 : !graph.image<f32> -> !graph.field<f32>
  %b = graph.blur %src radius 2 : !graph.image<f32> -> !graph.field<f32>
  // CHECK: %{{.*}} = graph.size %src : !graph.image<f32>
  %sz = graph.size %src : !graph.image<f32>
  // CHECK: graph.capture %{{.*}}, %{{.*}} : !graph.field<f32> -> !graph.image<f32>
  %c = graph.capture %b, %sz : !graph.field<f32> -> !graph.image<f32>
  // CHECK: graph.map(%{{.*}}) : (!graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map(%c) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    // CHECK: graph.coord 0 : i32
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    // CHECK: graph.load %{{.*}}[%{{.*}}, %{{.*}}] : !graph.image<f32> -> f32
    %n = graph.load %c[%x, %y] : !graph.image<f32> -> f32
    %uv = arith.constant dense<5.000000e-01> : vector<2xf32>
    // CHECK: graph.sample %img4, %{{.*}} : !graph.image<vector<4xf32>> -> vector<4xf32>
    %s = graph.sample %img4, %uv : !graph.image<vector<4xf32>> -> vector<4xf32>
    %r = arith.addf %n, %v : f32
    // CHECK: graph.yield %{{.*}} : f32
    graph.yield %r : f32
  }
  %o = graph.capture %m, %sz : !graph.field<f32> -> !graph.image<f32>
  // CHECK: graph.reduce "mean" %{{.*}}, %{{.*}} : !graph.field<f32> -> f32
  %mean = graph.reduce "mean" %m, %sz : !graph.field<f32> -> f32
  func.return %o, %mean : !graph.image<f32>, f32
}
