// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @bad_args(%u0: f32, %n: i32) -> f32 {
  %r = loop.repeat %n (%u0) : (f32) -> f32 {
  ^bb0(%u: f32):
    loop.yield %u : f32
  }
  func.return %r : f32
}
// CHECK: loop.repeat body takes the iteration index (i32) and one argument per state

// -----

func.func @bad_yield(%u0: f32, %n: i32) -> f32 {
  %r = loop.repeat %n (%u0) : (f32) -> f32 {
  ^bb0(%i: i32, %u: f32):
    loop.yield %i : i32
  }
  func.return %r : f32
}
// CHECK: loop.yield values must match the loop.repeat state types
