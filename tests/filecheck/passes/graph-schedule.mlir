// RUN: ccomp-opt %s -p graph-schedule | filecheck %s
// RUN: ccomp-opt %s -p "graph-schedule{max-bindings=3}" | filecheck %s --check-prefix=LIMIT

// Two captures and a reduction over the same extent with no hazard: one kernel.
// CHECK-LABEL: func.func @merge
// CHECK: graph.capture %{{.*}}, %{{.*}} group 0 :
// CHECK: graph.capture %{{.*}}, %{{.*}} group 0 :
// CHECK: graph.reduce "add" %{{.*}}, %{{.*}} group 0 :
func.func @merge(%a: !graph.image<f32>) -> (!graph.image<f32>, !graph.image<f32>, f32) {
  %sz = graph.size %a : !graph.image<f32>
  %m1 = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %r = arith.addf %v, %v : f32
    graph.yield %r : f32
  }
  %c1 = graph.capture %m1, %sz : !graph.field<f32> -> !graph.image<f32>
  %m2 = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %r = arith.mulf %v, %v : f32
    graph.yield %r : f32
  }
  %c2 = graph.capture %m2, %sz : !graph.field<f32> -> !graph.image<f32>
  %m3 = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    graph.yield %v : f32
  }
  %s = graph.reduce "add" %m3, %sz : !graph.field<f32> -> f32
  func.return %c1, %c2, %s : !graph.image<f32>, !graph.image<f32>, f32
}

// A read after write — reading the image the group captures (%c2), or a uniform
// computed from its reduction (%c3) — keeps a sink out of that group; the two can
// share the next kernel, since neither depends on the other.
// CHECK-LABEL: func.func @hazards
// CHECK: %c1 = graph.capture %{{.*}}, %{{.*}} group 0 :
// CHECK: %mx = graph.reduce "max" %{{.*}}, %{{.*}} group 0 :
// CHECK: %c2 = graph.capture %{{.*}}, %{{.*}} group 1 :
// CHECK: %c3 = graph.capture %{{.*}}, %{{.*}} group 1 :
func.func @hazards(%a: !graph.image<f32>) -> (!graph.image<f32>, !graph.image<f32>) {
  %sz = graph.size %a : !graph.image<f32>
  %m1 = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %r = arith.addf %v, %v : f32
    graph.yield %r : f32
  }
  %c1 = graph.capture %m1, %sz : !graph.field<f32> -> !graph.image<f32>
  %mx = graph.reduce "max" %m1, %sz : !graph.field<f32> -> f32
  %m2 = graph.map() : () -> !graph.field<f32> {
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %n = graph.load %c1[%x, %y] : !graph.image<f32> -> f32
    graph.yield %n : f32
  }
  %c2 = graph.capture %m2, %sz : !graph.field<f32> -> !graph.image<f32>
  %m3 = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %r = arith.divf %v, %mx : f32
    graph.yield %r : f32
  }
  %c3 = graph.capture %m3, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %c2, %c3 : !graph.image<f32>, !graph.image<f32>
}

// Different extents never share a kernel.
// CHECK-LABEL: func.func @extents
// CHECK: graph.capture %{{.*}}, %{{.*}} group 0 :
// CHECK: graph.capture %{{.*}}, %{{.*}} group 1 :
func.func @extents(%a: !graph.image<f32>, %b: !graph.image<f32>) -> (!graph.image<f32>, !graph.image<f32>) {
  %sa = graph.size %a : !graph.image<f32>
  %sb = graph.size %b : !graph.image<f32>
  %m1 = graph.map(%a) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    graph.yield %v : f32
  }
  %c1 = graph.capture %m1, %sa : !graph.field<f32> -> !graph.image<f32>
  %m2 = graph.map(%b) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    graph.yield %v : f32
  }
  %c2 = graph.capture %m2, %sb : !graph.field<f32> -> !graph.image<f32>
  func.return %c1, %c2 : !graph.image<f32>, !graph.image<f32>
}

// With at most 3 buffers a kernel, a sum of four images (4 reads + 1 write) is split:
// the largest part that fits (a + b) is captured first and read back pointwise, and
// again until each kernel reads two images and writes one.
// LIMIT-LABEL: func.func @four
// LIMIT:      %[[P:.*]] = graph.map(%a, %b) : (!graph.image<f32>, !graph.image<f32>) -> !graph.field<f32> {
// LIMIT:        arith.addf
// LIMIT:      %[[C:.*]] = graph.capture %[[P]], %{{.*}} group 0 :
// LIMIT:      %[[Q:.*]] = graph.map(%c, %[[C]])
// LIMIT:      %[[D:.*]] = graph.capture %[[Q]], %{{.*}} group 1 :
// LIMIT:      graph.map(%d, %[[D]])
// LIMIT:      graph.capture %{{.*}}, %{{.*}} group 2 :
func.func @four(%a: !graph.image<f32>, %b: !graph.image<f32>, %c: !graph.image<f32>, %d: !graph.image<f32>) -> !graph.image<f32> {
  %sz = graph.size %a : !graph.image<f32>
  %m = graph.map(%a, %b, %c, %d) : (!graph.image<f32>, !graph.image<f32>, !graph.image<f32>, !graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%va: f32, %vb: f32, %vc: f32, %vd: f32):
    %ab = arith.addf %va, %vb : f32
    %abc = arith.addf %ab, %vc : f32
    %abcd = arith.addf %abc, %vd : f32
    graph.yield %abcd : f32
  }
  %o = graph.capture %m, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}
