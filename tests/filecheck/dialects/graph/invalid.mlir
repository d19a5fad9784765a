// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @bad_reduce(%src: !graph.image<f32>) -> f32 {
  %sz = graph.size %src : !graph.image<f32>
  %r = graph.reduce "median" %src, %sz : !graph.image<f32> -> f32
  func.return %r : f32
}
// CHECK: graph.reduce kind must be one of add, min, max, mean

// -----

func.func @coord_outside() -> i32 {
  %x = graph.coord 0 : i32
  func.return %x : i32
}
// CHECK: graph.coord is only meaningful inside a graph.map body

// -----

func.func @bad_yield(%src: !graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %c = arith.constant 1 : i32
    graph.yield %c : i32
  }
  func.return %m : !graph.field<f32>
}
// CHECK: graph.map yields i32 but its result is !graph.field<f32>

// -----

func.func @bad_args(%src: !graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: vector<4xf32>):
    %c = arith.constant 1.0 : f32
    graph.yield %c : f32
  }
  func.return %m : !graph.field<f32>
}
// CHECK: graph.map block argument vector<4xf32> does not match input element f32

// -----

func.func @bad_blur(%src: !graph.image<f32>) -> !graph.field<f32> {
  %b = graph.blur %src radius -1 : !graph.image<f32> -> !graph.field<f32>
  func.return %b : !graph.field<f32>
}
// CHECK: graph.blur radius must be non-negative
