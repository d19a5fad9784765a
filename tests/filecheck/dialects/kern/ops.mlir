// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s

// CHECK: kern.kernel @tonemap_0 rank 2 {
// CHECK-NEXT: ^bb0(%{{.*}}: memref<?x?xvector<4xf32>>, %{{.*}}: memref<?x?xvector<4xf32>>, %{{.*}}: f32):
// CHECK-NEXT: %{{.*}} = kern.index 0
// CHECK-NEXT: %{{.*}} = kern.index 1
// CHECK: kern.yield
// CHECK: kern.kernel @sum_0 rank 2 reduce "add" {
// CHECK: kern.extent 1
// CHECK: kern.yield %{{.*}} : f32
// CHECK-LABEL: func.func @tonemap
// CHECK: kern.launch @tonemap_0[%{{.*}}, %{{.*}}] (%{{.*}}, %{{.*}}, %{{.*}}) : (memref<?x?xvector<4xf32>>, memref<?x?xvector<4xf32>>, f32) -> ()
// CHECK: %{{.*}} = kern.launch @sum_0[%{{.*}}, %{{.*}}] (%{{.*}}) : (memref<?x?xvector<4xf32>>) -> f32
kern.kernel @tonemap_0 rank 2 {
^bb0(%src: memref<?x?xvector<4xf32>>, %out: memref<?x?xvector<4xf32>>, %gain: f32):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %src[%y, %x] : memref<?x?xvector<4xf32>>
  %g = vector.broadcast %gain : f32 to vector<4xf32>
  %r = arith.mulf %v, %g : vector<4xf32>
  memref.store %r, %out[%y, %x] : memref<?x?xvector<4xf32>>
  kern.yield
}
kern.kernel @sum_0 rank 2 reduce "add" {
^bb0(%src: memref<?x?xvector<4xf32>>):
  %x = kern.index 0
  %y = kern.index 1
  %v = memref.load %src[%y, %x] : memref<?x?xvector<4xf32>>
  %e = vector.extract %v[0] : f32 from vector<4xf32>
  %ext = kern.extent 1
  kern.yield %e : f32
}
func.func @tonemap(%src: memref<?x?xvector<4xf32>>, %gain: f32) -> (memref<?x?xvector<4xf32>>, f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %h = memref.dim %src, %c0 : memref<?x?xvector<4xf32>>
  %w = memref.dim %src, %c1 : memref<?x?xvector<4xf32>>
  %out = memref.alloc(%h, %w) : memref<?x?xvector<4xf32>>
  kern.launch @tonemap_0 [%w, %h] (%src, %out, %gain) : (memref<?x?xvector<4xf32>>, memref<?x?xvector<4xf32>>, f32) -> ()
  %s = kern.launch @sum_0 [%w, %h] (%out) : (memref<?x?xvector<4xf32>>) -> f32
  func.return %out, %s : memref<?x?xvector<4xf32>>, f32
}

// CHECK-LABEL: kern.kernel @count rank 1
kern.kernel @count rank 1 {
^bb0(%bins: memref<?xi32>):
  %i = kern.index 0
  %one = arith.constant 1 : i32
  // CHECK: kern.atomic_add %{{.*}}, %bins[%{{.*}}] : memref<?xi32>
  kern.atomic_add %one, %bins[%i] : memref<?xi32>
  kern.yield
}
