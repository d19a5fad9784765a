// RUN: ccomp-opt %s -p 'partition-devices{profiles="%S/Inputs/even.json"}' | filecheck %s
// RUN: ccomp-opt %s -p 'partition-devices{profiles="%S/Inputs/even.json" split=0}' | filecheck %s --check-prefix=WHOLE
// A large data-parallel kernel split across two devices of similar speed behind a
// fast link (Inputs/even.json: the device 3x the CPU's bandwidth): @blur_part_<device>
// (one per band, so each device loads its own) is @blur with the outermost index
// shifted by the band's first row (an i32 binding) and the extent replaced by the
// full height. The first band, rows [0, r) with
// r = n * 768 / 1024, runs on opencl (3x faster: 3/4 of the rows), the second,
// rows [r, n), on llvm: the bands cover the index space exactly once.
// @sum is a reduction: never split.

kern.kernel @blur rank 2 {
^bb0(%in: memref<?x?xf32>, %out: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %h = kern.extent 1
  %c1 = arith.constant 1 : index
  %hm1 = arith.subi %h, %c1 : index
  %yd = arith.addi %y, %c1 : index
  %yc = arith.minsi %yd, %hm1 : index
  %a = memref.load %in[%y, %x] : memref<?x?xf32>
  %b = memref.load %in[%yc, %x] : memref<?x?xf32>
  %s = arith.addf %a, %b : f32
  memref.store %s, %out[%y, %x] : memref<?x?xf32>
  kern.yield
}
kern.kernel @sum rank 2 reduce "add" {
^bb0(%in: memref<?x?xf32>):
  %x = kern.index 0
  %y = kern.index 1
  %a = memref.load %in[%y, %x] : memref<?x?xf32>
  kern.yield %a : f32
}

// CHECK-NOT: kern.kernel @blur rank
// CHECK: kern.kernel @blur_part_llvm rank 2 {
// CHECK-NEXT: ^{{.*}}(%{{.*}}: memref<?x?xf32>, %{{.*}}: memref<?x?xf32>, %[[FIRST:.*]]: i32, %[[FULL:.*]]: i32):
// CHECK-DAG: %[[FIRSTI:.*]] = arith.index_cast %[[FIRST]] : i32 to index
// CHECK-DAG: %[[FULLI:.*]] = arith.index_cast %[[FULL]] : i32 to index
// CHECK: %[[Y:.*]] = kern.index 1
// CHECK-NEXT: %[[ROW:.*]] = arith.addi %[[Y]], %[[FIRSTI]] : index
// CHECK-NOT: kern.extent 1
// CHECK: arith.subi %[[FULLI]], %{{.*}} : index
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[ROW]], %{{.*}}]
// CHECK: kern.kernel @blur_part_opencl rank 2 {
// CHECK-LABEL: func.func @f
// CHECK: %[[N:.*]] = arith.constant 4096 : index
// CHECK: %[[SHARE:.*]] = arith.constant 768 : index
// CHECK-NEXT: %[[M:.*]] = arith.muli %[[N]], %[[SHARE]] : index
// CHECK-NEXT: %[[UNITS:.*]] = arith.constant 1024 : index
// CHECK-NEXT: %[[R:.*]] = arith.divsi %[[M]], %[[UNITS]] : index
// CHECK-NEXT: %[[REST:.*]] = arith.subi %[[N]], %[[R]] : index
// CHECK-NEXT: %[[H:.*]] = arith.index_cast %[[N]] : index to i32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-NEXT: %[[RI:.*]] = arith.index_cast %[[R]] : index to i32
// CHECK-NEXT: kern.launch @blur_part_opencl[%[[N]], %[[R]]] (%{{.*}}, %{{.*}}, %[[ZERO]], %[[H]]) {device = "opencl", part = [2 : i64, 3 : i64], estimate = {{.*}}, migrate = [0 : i64], transfer_bytes = 67108864 : i64}
// CHECK-NEXT: kern.launch @blur_part_llvm[%[[N]], %[[REST]]] (%{{.*}}, %{{.*}}, %[[RI]], %[[H]]) {device = "llvm", part = [2 : i64, 3 : i64], estimate = {{.*}}, migrate = [], transfer_bytes = 0 : i64}
// CHECK: kern.launch @sum[%[[N]], %[[N]]] (%{{.*}}) {device =
// WHOLE: kern.kernel @blur rank 2
// WHOLE-NOT: _part
// WHOLE: kern.launch @blur[{{.*}}] (%{{.*}}, %{{.*}}) {device = "opencl"
func.func @f(%a: memref<?x?xf32>) -> (memref<?x?xf32>, f32) {
  %n = arith.constant 4096 : index
  %o = memref.alloc(%n, %n) : memref<?x?xf32>
  kern.launch @blur[%n, %n] (%a, %o) : (memref<?x?xf32>, memref<?x?xf32>) -> ()
  %s = kern.launch @sum[%n, %n] (%a) : (memref<?x?xf32>) -> f32
  func.return %o, %s : memref<?x?xf32>, f32
}
