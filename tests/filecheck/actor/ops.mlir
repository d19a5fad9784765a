// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s

// Every actor op survives printing and both parsers: message types, an actor with its
// queue, state and handler (reply, send, return), a pipeline with fan-out and fan-in,
// and a lowered handler that names its host function.

// CHECK: actor.message @Pair {names = ["a", "b"], types = [tensor<?xf32>, tensor<4xf32>]}
actor.message @Pair {names = ["a", "b"], types = [tensor<?xf32>, tensor<4xf32>]}
// CHECK: actor.message @Note {names = ["total", "n"], types = [f32, i64]}
actor.message @Note {names = ["total", "n"], types = [f32, i64]}

// CHECK:      actor.actor @add capacity 256 policy "drop_oldest" {
// CHECK-NEXT:   actor.state @seen : i64 = 0 : i64
// CHECK-NEXT:   actor.handler @Pair -> @Note {
// CHECK-NEXT:   ^bb0(%{{.*}}: tensor<?xf32>, %{{.*}}: tensor<4xf32>, %[[SEEN:.*]]: i64):
// CHECK:          %[[T:.*]] = sparse.reduce "add" %{{.*}} : tensor<?xf32>
// CHECK-NEXT:     %{{.*}} = actor.element %{{.*}}[%{{.*}}] : tensor<4xf32>, i64 -> f32
// CHECK:          actor.send @log @Note(%[[T]], %[[SEEN]]) : f32, i64
// CHECK-NEXT:     actor.reply @Note(%[[T]], %[[SEEN]]) : f32, i64
// CHECK-NEXT:     actor.return %[[SEEN]] : i64
actor.actor @add capacity 256 policy "drop_oldest" {
  actor.state @seen : i64 = 0 : i64
  actor.handler @Pair -> @Note {
  ^bb0(%a: tensor<?xf32>, %b: tensor<4xf32>, %seen: i64):
    %t = sparse.reduce "add" %a : tensor<?xf32>
    %e = actor.element %b[%seen] : tensor<4xf32>, i64 -> f32
    actor.send @log @Note(%t, %seen) : f32, i64
    actor.reply @Note(%t, %seen) : f32, i64
    actor.return %seen : i64
  }
}

// CHECK:      actor.actor @log capacity 8 policy "reject" {
// CHECK-NEXT:   actor.handler @Note host @log__Note {
actor.actor @log capacity 8 policy "reject" {
  actor.handler @Note host @log__Note {
  }
}
// CHECK: func.func @log__Note(%{{.*}}: memref<?xf32> {graph.name = "total"}) -> memref<?xi32> attributes {graph.outputs = ["status"], actor.checks = [], actor.check_locations = [], actor.lengths = {}, actor.out_messages = [], actor.loop_cost = {"" = 0 : i64}}
func.func @log__Note(%total: memref<?xf32> {graph.name = "total"}) -> memref<?xi32> attributes {graph.outputs = ["status"], actor.checks = [], actor.check_locations = [], actor.lengths = {}, actor.out_messages = [], actor.loop_cost = {"" = 0 : i64}} {
  %0 = arith.constant 0 : index
  %n = memref.dim %total, %0 : memref<?xf32>
  %status = memref.alloc(%n) : memref<?xi32>
  func.return %status : memref<?xi32>
}

// CHECK: actor.pipeline @p {stages = ["add", "log", "sink"], edges = {{\[\["add", "log"\], \["add", "sink"\]\]}}, entries = ["add"], exits = ["log", "sink"]}
actor.pipeline @p {stages = ["add", "log", "sink"], edges = [["add", "log"], ["add", "sink"]], entries = ["add"], exits = ["log", "sink"]}
