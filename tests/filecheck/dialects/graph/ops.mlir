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

// The stage contracts survive printing and both parsers: the properties the frontend
// (implicit) and graph-schedule (group) leave on sinks, and the ports of a program.
// CHECK-LABEL: func.func @contracts
// CHECK-SAME:    (%src: !graph.image<f32> {graph.name = "src"}, %k: f32 {graph.name = "k", graph.default = 2.000000e+00 : f32})
// CHECK-SAME:    -> (!graph.image<f32>, f32) attributes {graph.outputs = ["img", "total"]}
func.func @contracts(%src: !graph.image<f32> {graph.name = "src"}, %k: f32 {graph.name = "k", graph.default = 2.0 : f32})
    -> (!graph.image<f32>, f32) attributes {graph.outputs = ["img", "total"]} {
  %sz = graph.size %src : !graph.image<f32>
  %f = graph.blur %src radius 1 : !graph.image<f32> -> !graph.field<f32>
  // CHECK: graph.capture %{{.*}}, %{{.*}} implicit : !graph.field<f32> -> !graph.image<f32>
  %i = graph.capture %f, %sz implicit : !graph.field<f32> -> !graph.image<f32>
  // CHECK: graph.capture %{{.*}}, %{{.*}} implicit group 0 : !graph.field<f32> -> !graph.image<f32>
  %j = graph.capture %f, %sz implicit group 0 : !graph.field<f32> -> !graph.image<f32>
  // CHECK: graph.capture %{{.*}}, %{{.*}} group 1 : !graph.field<f32> -> !graph.image<f32>
  %c = graph.capture %f, %sz group 1 : !graph.field<f32> -> !graph.image<f32>
  // CHECK: graph.reduce "add" %{{.*}}, %{{.*}} group 1 : !graph.field<f32> -> f32
  %r = graph.reduce "add" %f, %sz group 1 : !graph.field<f32> -> f32
  func.return %c, %r : !graph.image<f32>, f32
}

// CHECK-LABEL: func.func @histogram
func.func @histogram(%src: !graph.image<f32>, %lo: f32, %hi: f32) -> tensor<16xi32> {
  %sz = graph.size %src : !graph.image<f32>
  %m = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    graph.yield %v : f32
  }
  // CHECK: graph.histogram %{{.*}}, %{{.*}}, %lo, %hi bins 16 group 3 : !graph.field<f32> -> tensor<16xi32>
  %h = graph.histogram %m, %sz, %lo, %hi bins 16 group 3 : !graph.field<f32> -> tensor<16xi32>
  func.return %h : tensor<16xi32>
}
