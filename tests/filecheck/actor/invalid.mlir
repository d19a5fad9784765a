// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

actor.actor @a capacity 0 policy "block" {
  actor.state @s : i32 = 0 : i32
}
// CHECK: actor @a: queue capacity must be at least 1

// -----

actor.actor @a capacity 4 policy "drop_newest" {
  actor.state @s : i32 = 0 : i32
}
// CHECK: actor @a: unknown backpressure policy 'drop_newest' (one of block, reject, drop_oldest)

// -----

actor.message @M {names = ["x"], types = [f32]}
actor.actor @a capacity 4 policy "block" {
  actor.handler @N {
  ^bb0(%x: f32):
    actor.return
  }
}
// CHECK: actor.handler refers to unknown message @N

// -----

actor.message @M {names = ["x"], types = [f32]}
actor.actor @a capacity 4 policy "block" {
  actor.handler @M {
  ^bb0(%x: i32):
    actor.return
  }
}
// CHECK: actor.handler of @M takes (i32); expected its fields then the actor's state (f32)

// -----

actor.message @M {names = ["x"], types = [f32]}
actor.message @R {names = ["y"], types = [f64]}
actor.actor @a capacity 4 policy "block" {
  actor.handler @M -> @R {
  ^bb0(%x: f32):
    actor.reply @R(%x) : f32
    actor.return
  }
}
// CHECK: actor.reply gives (f32) but @R has fields (f64)

// -----

actor.message @M {names = ["x"], types = [f32]}
actor.actor @a capacity 4 policy "block" {
  actor.handler @M -> @M {
  ^bb0(%x: f32):
    actor.return
  }
}
// CHECK: a handler replying @M must reply exactly once

// -----

actor.message @M {names = ["x", "x"], types = [f32, f32]}
// CHECK: message @M repeats a field name

// -----

actor.message @M {names = ["x"], types = [tensor<?x?xf32>]}
// CHECK: field 'x' of @M: tensors are dense and rank 1

// -----

actor.pipeline @p {stages = ["a"], edges = [["a", "b"]], entries = ["a"], exits = ["a"]}
// CHECK: pipeline @p: an edge is a pair of its stages

// -----

actor.message @M {names = ["x"], types = [f32]}
actor.actor @a capacity 4 policy "block" {
  actor.handler @M host @a__M {
  }
}
// CHECK: actor.handler names host @a__M, which is no func.func of the module

// -----

func.func @h(%x: memref<?xf32> {graph.name = "x"}) -> memref<?xf32> attributes {graph.outputs = ["reply.y"], actor.checks = [], actor.check_locations = [], actor.lengths = {"reply.y" = "z"}, actor.out_messages = ["M"], actor.loop_cost = {}} {
  func.return %x : memref<?xf32>
}
// CHECK: actor.lengths: the length of 'reply.y' comes from an input port or is a positive size

// -----

func.func @h(%x: memref<?xf32> {graph.name = "x"}) -> memref<?xf32> attributes {graph.outputs = ["status"], actor.checks = ["a"], actor.check_locations = [], actor.lengths = {}, actor.out_messages = [], actor.loop_cost = {"" = 0 : i64}} {
  func.return %x : memref<?xf32>
}
// CHECK: actor.check_locations must hold one location per check

// -----

func.func @h(%x: memref<?xf32>) -> memref<?xf32> attributes {actor.checks = []} {
  func.return %x : memref<?xf32>
}
// CHECK: a handler's host function carries all of actor.check_locations, actor.checks, actor.lengths, actor.loop_cost, actor.out_messages

// -----

actor.message @M {names = ["x"], types = [f32]}
actor.actor @a capacity 4 policy "block" {
  actor.handler @M {
  ^bb0(%x: f32):
    actor.send @nobody @M(%x) : f32
    actor.return
  }
}
// CHECK: actor.send to unknown actor @nobody
