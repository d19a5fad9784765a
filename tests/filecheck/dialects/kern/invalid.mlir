// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

kern.kernel @k rank 4 {
  kern.yield
}
// CHECK: kern.kernel rank must be 1, 2 or 3

// -----

kern.kernel @k rank 1 {
  %x = kern.index 1
  kern.yield
}
// CHECK: kern.index dim 1 is outside the kernel's rank 1

// -----

kern.kernel @k rank 1 {
  %c = arith.constant 1.0 : f32
  kern.yield %c : f32
}
// CHECK: only a reduce kernel yields a value

// -----

kern.kernel @k rank 1 reduce "mul" {
  %c = arith.constant 1.0 : f32
  kern.yield %c : f32
}
// CHECK: kern.kernel reduce must be one of add, min, max

// -----

kern.kernel @k rank 1 {
^bb0(%a: memref<?xf32>):
  kern.yield
}
func.func @f(%n: index, %b: memref<?xf32>) {
  kern.launch @k[%n, %n] (%b) : (memref<?xf32>) -> ()
  func.return
}
// CHECK: kern.launch of @k gives 2 grid sizes, kernel rank is 1

// -----

func.func @f(%n: index) {
  kern.launch @missing[%n] () : () -> ()
  func.return
}
// CHECK: kern.launch refers to unknown kernel @missing

// -----

kern.kernel @k rank 1 {
^bb0(%b: memref<?xf32>):
  %i = kern.index 0
  %one = arith.constant 1 : i32
  kern.atomic_add %one, %b[%i] : memref<?xf32>
  kern.yield
}
// CHECK: kern.atomic_add needs an i32 buffer, got memref<?xf32>

// -----

kern.kernel @k rank 1 {
^bb0(%b: memref<?x?xi32>):
  %i = kern.index 0
  %one = arith.constant 1 : i32
  kern.atomic_add %one, %b[%i] : memref<?x?xi32>
  kern.yield
}
// CHECK: kern.atomic_add gives 1 indices for a rank 2 buffer
