// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s

// Every storage format survives printing and both parsers.
// CHECK-LABEL: func.func @formats
// CHECK-SAME:    %csr: tensor<?x?xf32, #sparse.format<csr>>
// CHECK-SAME:    %csc: tensor<?x?xf32, #sparse.format<csc>>
// CHECK-SAME:    %coo: tensor<?x?xf32, #sparse.format<coo>>
// CHECK-SAME:    %bsr: tensor<8x8xf32, #sparse.format<bsr[4, 4]>>
// CHECK-SAME:    %bsr2: tensor<?x?xf32, #sparse.format<bsr[2, 8]>>
// CHECK-SAME:    %auto: tensor<?x?xf32, #sparse.format<auto>>
// CHECK-SAME:    %dense: tensor<?x?xf32>
func.func @formats(%csr: tensor<?x?xf32, #sparse.format<csr>>, %csc: tensor<?x?xf32, #sparse.format<csc>>,
                   %coo: tensor<?x?xf32, #sparse.format<coo>>, %bsr: tensor<8x8xf32, #sparse.format<bsr[4, 4]>>,
                   %bsr2: tensor<?x?xf32, #sparse.format<bsr[2, 8]>>, %auto: tensor<?x?xf32, #sparse.format<auto>>,
                   %dense: tensor<?x?xf32>) {
  func.return
}

// CHECK-LABEL: func.func @products
func.func @products(%a: tensor<?x?xf32, #sparse.format<csr>>, %b: tensor<8x8xf32, #sparse.format<bsr[4, 4]>>,
                    %d: tensor<?x?xf32>, %v: tensor<?xf32>, %v8: tensor<8xf32>) -> (tensor<?xf32>, tensor<8xf32>, tensor<?x?xf32>, tensor<?x?xf32>) {
  // CHECK: %{{.*}} = sparse.matvec %a, %v : tensor<?x?xf32, #sparse.format<csr>>, tensor<?xf32> -> tensor<?xf32>
  %r = sparse.matvec %a, %v : tensor<?x?xf32, #sparse.format<csr>>, tensor<?xf32> -> tensor<?xf32>
  // CHECK: %{{.*}} = sparse.matvec %b, %v8 : tensor<8x8xf32, #sparse.format<bsr[4, 4]>>, tensor<8xf32> -> tensor<8xf32>
  %r8 = sparse.matvec %b, %v8 : tensor<8x8xf32, #sparse.format<bsr[4, 4]>>, tensor<8xf32> -> tensor<8xf32>
  // CHECK: %{{.*}} = sparse.matmul %a, %d : tensor<?x?xf32, #sparse.format<csr>>, tensor<?x?xf32> -> tensor<?x?xf32>
  %m = sparse.matmul %a, %d : tensor<?x?xf32, #sparse.format<csr>>, tensor<?x?xf32> -> tensor<?x?xf32>
  // CHECK: %{{.*}} = sparse.matmul %d, %d : tensor<?x?xf32>, tensor<?x?xf32> -> tensor<?x?xf32>
  %dd = sparse.matmul %d, %d : tensor<?x?xf32>, tensor<?x?xf32> -> tensor<?x?xf32>
  func.return %r, %r8, %m, %dd : tensor<?xf32>, tensor<8xf32>, tensor<?x?xf32>, tensor<?x?xf32>
}

// CHECK-LABEL: func.func @pointwise
// CHECK:       %{{.*}} = sparse.elementwise(%m, %row, %s) : (tensor<?x?xf32>, tensor<?xf32>, f32) -> tensor<?x?xf32> {
// CHECK-NEXT:  ^bb0(%x: f32, %y: f32, %z: f32):
// CHECK-NEXT:    %{{.*}} = arith.addf %x, %y : f32
// CHECK-NEXT:    %{{.*}} = arith.mulf %{{.*}}, %z : f32
// CHECK-NEXT:    sparse.yield %{{.*}} : f32
// CHECK-NEXT:  }
func.func @pointwise(%m: tensor<?x?xf32>, %row: tensor<?xf32>, %s: f32) -> tensor<?x?xf32> {
  %e = sparse.elementwise(%m, %row, %s) : (tensor<?x?xf32>, tensor<?xf32>, f32) -> tensor<?x?xf32> {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %t = arith.addf %x, %y : f32
    %u = arith.mulf %t, %z : f32
    sparse.yield %u : f32
  }
  func.return %e : tensor<?x?xf32>
}

// CHECK-LABEL: func.func @conversions
func.func @conversions(%a: tensor<?x?xf32, #sparse.format<coo>>) -> (tensor<?x?xf32, #sparse.format<csr>>, tensor<?x?xf32>, tensor<?x?xf32, #sparse.format<bsr[4, 4]>>) {
  // CHECK: %{{.*}} = sparse.convert %a : tensor<?x?xf32, #sparse.format<coo>> to tensor<?x?xf32, #sparse.format<csr>>
  %c = sparse.convert %a : tensor<?x?xf32, #sparse.format<coo>> to tensor<?x?xf32, #sparse.format<csr>>
  // CHECK: %{{.*}} = sparse.convert %{{.*}} : tensor<?x?xf32, #sparse.format<csr>> to tensor<?x?xf32>
  %d = sparse.convert %c : tensor<?x?xf32, #sparse.format<csr>> to tensor<?x?xf32>
  // CHECK: %{{.*}} = sparse.convert %{{.*}} : tensor<?x?xf32> to tensor<?x?xf32, #sparse.format<bsr[4, 4]>>
  %b = sparse.convert %d : tensor<?x?xf32> to tensor<?x?xf32, #sparse.format<bsr[4, 4]>>
  func.return %c, %d, %b : tensor<?x?xf32, #sparse.format<csr>>, tensor<?x?xf32>, tensor<?x?xf32, #sparse.format<bsr[4, 4]>>
}

// CHECK-LABEL: func.func @queries
func.func @queries(%a: tensor<?x?xf32, #sparse.format<csc>>, %v: tensor<?xf32>) -> (i32, i32, i32, f32, f32, f32) {
  // CHECK: %{{.*}} = sparse.nnz %a : tensor<?x?xf32, #sparse.format<csc>>
  %n = sparse.nnz %a : tensor<?x?xf32, #sparse.format<csc>>
  // CHECK: %{{.*}} = sparse.dim %a[0] : tensor<?x?xf32, #sparse.format<csc>>
  %rows = sparse.dim %a[0] : tensor<?x?xf32, #sparse.format<csc>>
  // CHECK: %{{.*}} = sparse.dim %a[1] : tensor<?x?xf32, #sparse.format<csc>>
  %cols = sparse.dim %a[1] : tensor<?x?xf32, #sparse.format<csc>>
  // CHECK: %{{.*}} = sparse.reduce "add" %v : tensor<?xf32>
  %sum = sparse.reduce "add" %v : tensor<?xf32>
  // CHECK: %{{.*}} = sparse.reduce "min" %v : tensor<?xf32>
  %lo = sparse.reduce "min" %v : tensor<?xf32>
  // CHECK: %{{.*}} = sparse.reduce "max" %v : tensor<?xf32>
  %hi = sparse.reduce "max" %v : tensor<?xf32>
  func.return %n, %rows, %cols, %sum, %lo, %hi : i32, i32, i32, f32, f32, f32
}

// CHECK-LABEL: func.func @fills
func.func @fills(%n: i32, %m: i32, %x: f32) -> (tensor<?xf32>, tensor<?x?xf32>, tensor<4x2xf32>) {
  // CHECK: %{{.*}} = sparse.fill(%n) %x : tensor<?xf32>
  %v = sparse.fill(%n) %x : tensor<?xf32>
  // CHECK: %{{.*}} = sparse.fill(%n, %m) %x : tensor<?x?xf32>
  %a = sparse.fill(%n, %m) %x : tensor<?x?xf32>
  // CHECK: %{{.*}} = sparse.fill(%n, %m) %x : tensor<4x2xf32>
  %s = sparse.fill(%n, %m) %x : tensor<4x2xf32>
  func.return %v, %a, %s : tensor<?xf32>, tensor<?x?xf32>, tensor<4x2xf32>
}

// Tensor state in a repeat zone: PageRank's shape.
// CHECK-LABEL: func.func @pagerank
// CHECK:       %{{.*}} = loop.repeat %iters(%{{.*}}) : (tensor<?xf32>) -> tensor<?xf32> {
// CHECK-NEXT:  ^bb0(%i: i32, %s: tensor<?xf32>):
// CHECK-NEXT:    %{{.*}} = sparse.matvec %A, %s : tensor<?x?xf32, #sparse.format<auto>>, tensor<?xf32> -> tensor<?xf32>
// CHECK-NEXT:    %{{.*}} = sparse.elementwise(%{{.*}}, %d, %base) : (tensor<?xf32>, f32, f32) -> tensor<?xf32> {
// CHECK:           sparse.yield %{{.*}} : f32
// CHECK-NEXT:    }
// CHECK-NEXT:    loop.yield %{{.*}} : tensor<?xf32>
// CHECK-NEXT:  }
func.func @pagerank(%A: tensor<?x?xf32, #sparse.format<auto>>, %d: f32, %base: f32, %inv: f32, %iters: i32) -> tensor<?xf32> {
  %n = sparse.dim %A[0] : tensor<?x?xf32, #sparse.format<auto>>
  %r0 = sparse.fill(%n) %inv : tensor<?xf32>
  %r = loop.repeat %iters (%r0) : (tensor<?xf32>) -> tensor<?xf32> {
  ^bb0(%i: i32, %s: tensor<?xf32>):
    %t = sparse.matvec %A, %s : tensor<?x?xf32, #sparse.format<auto>>, tensor<?xf32> -> tensor<?xf32>
    %next = sparse.elementwise(%t, %d, %base) : (tensor<?xf32>, f32, f32) -> tensor<?xf32> {
    ^bb1(%ti: f32, %di: f32, %bi: f32):
      %m = arith.mulf %di, %ti : f32
      %a = arith.addf %bi, %m : f32
      sparse.yield %a : f32
    }
    loop.yield %next : tensor<?xf32>
  }
  func.return %r : tensor<?xf32>
}

// What sparse-select-format and sparse-lower leave for the runtime survives printing
// and both parsers: a format variant, its auto argument, and a csr matrix as its parts.
// CHECK-LABEL: func.func @spmv__csr
// CHECK-SAME:    %{{.*}}: memref<?xi32> {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "indptr"}
// CHECK-SAME:    %{{.*}}: memref<?xi32> {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "indices"}
// CHECK-SAME:    %{{.*}}: memref<?xf32> {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "data"}
// CHECK-SAME:    %{{.*}}: i32 {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "rows"}
// CHECK-SAME:    %{{.*}}: i32 {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "cols"}
// CHECK-SAME:    %{{.*}}: i32 {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "nnz"}
// CHECK-SAME:    %{{.*}}: memref<?xf32> {graph.name = "v", sparse.format = "dense"}
// CHECK-SAME:    -> (memref<?xf32> {graph.name = "out", sparse.format = "dense"})
// CHECK-SAME:    attributes {graph.outputs = ["out"], sparse.variant_of = "spmv"}
func.func @spmv__csr(
    %p: memref<?xi32> {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "indptr"},
    %i: memref<?xi32> {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "indices"},
    %d: memref<?xf32> {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "data"},
    %r: i32 {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "rows"},
    %c: i32 {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "cols"},
    %n: i32 {graph.name = "A", sparse.auto = "csr", sparse.format = "csr", sparse.part = "nnz"},
    %v: memref<?xf32> {graph.name = "v", sparse.format = "dense"})
    -> (memref<?xf32> {graph.name = "out", sparse.format = "dense"})
    attributes {graph.outputs = ["out"], sparse.variant_of = "spmv"} {
  func.return %v : memref<?xf32>
}

// Before sparse-lower, an auto argument's type carries the format its tag names.
// CHECK-LABEL: func.func @pr__bsr4x4
// CHECK-SAME:    %A: tensor<?x?xf32, #sparse.format<bsr[4, 4]>> {graph.name = "A", sparse.auto = "bsr4x4"}
// CHECK-SAME:    %B: tensor<?x?xf32> {graph.name = "B", sparse.auto = "dense"}
// CHECK-SAME:    attributes {sparse.variant_of = "pr"}
func.func @pr__bsr4x4(%A: tensor<?x?xf32, #sparse.format<bsr[4, 4]>> {graph.name = "A", sparse.auto = "bsr4x4"},
                      %B: tensor<?x?xf32> {graph.name = "B", sparse.auto = "dense"}) attributes {sparse.variant_of = "pr"} {
  func.return
}
