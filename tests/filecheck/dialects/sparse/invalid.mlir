// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @f(%a: tensor<?x?xf32, #sparse.format<ell>>) {
  func.return
}
// CHECK: unknown sparse format 'ell'; expected one of csr, csc, coo, bsr, auto

// -----

func.func @f(%a: tensor<?x?xf32, #sparse.format<csr[4, 4]>>) {
  func.return
}
// CHECK: only bsr has a block size, not csr

// -----

func.func @f(%a: tensor<?x?xf32, #sparse.format<bsr[0, 4]>>) {
  func.return
}
// CHECK: bsr blocks must be at least 1x1

// -----

func.func @f(%a: tensor<?x?xf32, #sparse.format<bsr>>) {
  func.return
}
// CHECK: bsr blocks must be at least 1x1

// -----

func.func @f(%v: tensor<?xf32, #sparse.format<csr>>) -> i32 {
  %n = sparse.nnz %v : tensor<?xf32, #sparse.format<csr>>
  func.return %n : i32
}
// CHECK: only matrices (rank 2) can be sparse, got tensor<?xf32, #sparse.format<csr>>

// -----

func.func @f(%a: tensor<?x?xf16>) -> i32 {
  %n = sparse.nnz %a : tensor<?x?xf16>
  func.return %n : i32
}
// CHECK: the operand of sparse.nnz must be a tensor of f32, f64, i32 or i64, got tensor<?x?xf16>

// -----

func.func @f(%a: tensor<?x?xi32, #sparse.format<csr>>) -> i32 {
  %n = sparse.nnz %a : tensor<?x?xi32, #sparse.format<csr>>
  func.return %n : i32
}
// CHECK: the operand of sparse.nnz: a sparse tensor holds f32 or f64, got tensor<?x?xi32, #sparse.format<csr>>

// -----

func.func @f(%a: tensor<?x?x?xf32>) -> i32 {
  %n = sparse.nnz %a : tensor<?x?x?xf32>
  func.return %n : i32
}
// CHECK: the operand of sparse.nnz must have rank 1 or 2, got tensor<?x?x?xf32>

// -----

func.func @f(%a: tensor<?x?xf32, "csr">) -> i32 {
  %n = sparse.nnz %a : tensor<?x?xf32, "csr">
  func.return %n : i32
}
// CHECK: the operand of sparse.nnz has an encoding that is not #sparse.format: "csr"

// -----

func.func @f(%a: tensor<4x3xf32, #sparse.format<csr>>, %v: tensor<4xf32>) -> tensor<4xf32> {
  %r = sparse.matvec %a, %v : tensor<4x3xf32, #sparse.format<csr>>, tensor<4xf32> -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}
// CHECK: sparse.matvec of a tensor<4x3xf32, #sparse.format<csr>> by a tensor<4xf32>: the matrix's columns and the vector's length differ

// -----

func.func @f(%a: tensor<4x3xf32, #sparse.format<csr>>, %v: tensor<?xf32>) -> tensor<3xf32> {
  %r = sparse.matvec %a, %v : tensor<4x3xf32, #sparse.format<csr>>, tensor<?xf32> -> tensor<3xf32>
  func.return %r : tensor<3xf32>
}
// CHECK: sparse.matvec result must be rows(lhs)

// -----

func.func @f(%v: tensor<?xf32>) -> tensor<?xf32> {
  %r = sparse.matvec %v, %v : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
  func.return %r : tensor<?xf32>
}
// CHECK: the matrix of sparse.matvec must have rank 2, got tensor<?xf32>

// -----

func.func @f(%a: tensor<?x?xf32, #sparse.format<csr>>, %b: tensor<?x?xf32, #sparse.format<csr>>) -> tensor<?x?xf32> {
  %r = sparse.matmul %a, %b : tensor<?x?xf32, #sparse.format<csr>>, tensor<?x?xf32, #sparse.format<csr>> -> tensor<?x?xf32>
  func.return %r : tensor<?x?xf32>
}
// CHECK: the right-hand matrix of sparse.matmul must be a dense tensor, got tensor<?x?xf32, #sparse.format<csr>>

// -----

func.func @f(%a: tensor<4x3xf32, #sparse.format<coo>>, %b: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %r = sparse.matmul %a, %b : tensor<4x3xf32, #sparse.format<coo>>, tensor<4x2xf32> -> tensor<4x2xf32>
  func.return %r : tensor<4x2xf32>
}
// CHECK: sparse.matmul of a tensor<4x3xf32, #sparse.format<coo>> by a tensor<4x2xf32>: the matrix's columns and the right-hand matrix's rows differ

// -----

func.func @f(%a: tensor<4x3xf32, #sparse.format<coo>>, %b: tensor<3x2xf32>) -> tensor<4x3xf32> {
  %r = sparse.matmul %a, %b : tensor<4x3xf32, #sparse.format<coo>>, tensor<3x2xf32> -> tensor<4x3xf32>
  func.return %r : tensor<4x3xf32>
}
// CHECK: sparse.matmul result must be rows(lhs) x cols(rhs)

// -----

func.func @f(%a: tensor<4x3xf32>, %v: tensor<4xf32>) -> tensor<4x3xf32> {
  %r = sparse.elementwise(%a, %v) : (tensor<4x3xf32>, tensor<4xf32>) -> tensor<4x3xf32> {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    sparse.yield %s : f32
  }
  func.return %r : tensor<4x3xf32>
}
// CHECK: input 1 of sparse.elementwise (tensor<4xf32>) does not broadcast to tensor<4x3xf32>

// -----

func.func @f(%a: tensor<?x?xf32>) -> tensor<?xf32> {
  %r = sparse.elementwise(%a) : (tensor<?x?xf32>) -> tensor<?xf32> {
  ^bb0(%x: f32):
    sparse.yield %x : f32
  }
  func.return %r : tensor<?xf32>
}
// CHECK: input 0 of sparse.elementwise has a higher rank than the result

// -----

func.func @f(%a: tensor<?x?xf32, #sparse.format<csr>>) -> tensor<?x?xf32> {
  %r = sparse.elementwise(%a) : (tensor<?x?xf32, #sparse.format<csr>>) -> tensor<?x?xf32> {
  ^bb0(%x: f32):
    sparse.yield %x : f32
  }
  func.return %r : tensor<?x?xf32>
}
// CHECK: input 0 of sparse.elementwise must be a dense tensor, got tensor<?x?xf32, #sparse.format<csr>>

// -----

func.func @f(%v: tensor<?xf32>, %s: f32) -> tensor<?xf32> {
  %r = sparse.elementwise(%v, %s) : (tensor<?xf32>, f32) -> tensor<?xf32> {
  ^bb0(%x: f32):
    sparse.yield %x : f32
  }
  func.return %r : tensor<?xf32>
}
// CHECK: sparse.elementwise has 2 inputs but 1 block arguments

// -----

func.func @f(%v: tensor<?xf32>, %s: f32) -> tensor<?xf32> {
  %r = sparse.elementwise(%v, %s) : (tensor<?xf32>, f32) -> tensor<?xf32> {
  ^bb0(%x: f32, %y: i32):
    sparse.yield %x : f32
  }
  func.return %r : tensor<?xf32>
}
// CHECK: block argument 1 of sparse.elementwise must be f32, got i32

// -----

func.func @f(%v: tensor<?xf32>) -> tensor<?xf32> {
  %r = sparse.elementwise(%v) : (tensor<?xf32>) -> tensor<?xf32> {
  ^bb0(%x: tensor<?xf32>):
    %c = arith.constant 0.0 : f32
    sparse.yield %c : f32
  }
  func.return %r : tensor<?xf32>
}
// CHECK: block argument 0 of sparse.elementwise must be f32, got tensor<?xf32>

// -----

func.func @f(%v: tensor<?xf32>) -> tensor<?xf32> {
  %r = sparse.elementwise(%v) : (tensor<?xf32>) -> tensor<?xf32> {
  ^bb0(%x: f32):
    %i = arith.fptosi %x : f32 to i32
    sparse.yield %i : i32
  }
  func.return %r : tensor<?xf32>
}
// CHECK: sparse.elementwise body must end with sparse.yield of one f32

// -----

func.func @f(%x: f32) {
  sparse.yield %x : f32
}
// CHECK: 'sparse.yield' expects parent op 'sparse.elementwise'

// -----

func.func @f(%a: tensor<4x3xf32, #sparse.format<csr>>) -> tensor<3x4xf32> {
  %r = sparse.convert %a : tensor<4x3xf32, #sparse.format<csr>> to tensor<3x4xf32>
  func.return %r : tensor<3x4xf32>
}
// CHECK: sparse.convert keeps the shape

// -----

func.func @f(%v: tensor<?xf32>) -> i32 {
  %n = sparse.dim %v[1] : tensor<?xf32>
  func.return %n : i32
}
// CHECK: sparse.dim 1 is outside the rank of tensor<?xf32>

// -----

func.func @f(%n: i32, %x: f32) -> tensor<?x?xf32> {
  %r = sparse.fill(%n) %x : tensor<?x?xf32>
  func.return %r : tensor<?x?xf32>
}
// CHECK: sparse.fill of a rank-2 tensor needs 2 sizes

// -----

func.func @f(%n: i32, %x: f32) -> tensor<?x?xf32, #sparse.format<csr>> {
  %r = sparse.fill(%n, %n) %x : tensor<?x?xf32, #sparse.format<csr>>
  func.return %r : tensor<?x?xf32, #sparse.format<csr>>
}
// CHECK: the result of sparse.fill must be a dense tensor, got tensor<?x?xf32, #sparse.format<csr>>

// -----

func.func @f(%v: tensor<?xf32>) -> f32 {
  %r = sparse.reduce "mul" %v : tensor<?xf32>
  func.return %r : f32
}
// CHECK: sparse.reduce kind must be one of add, min, max

// -----

func.func @f(%a: tensor<?x?xf32, #sparse.format<csr>>) -> f32 {
  %r = sparse.reduce "add" %a : tensor<?x?xf32, #sparse.format<csr>>
  func.return %r : f32
}
// CHECK: the operand of sparse.reduce must be a dense tensor, got tensor<?x?xf32, #sparse.format<csr>>

// -----

func.func @unknown_storage(%a: memref<?xf32> {graph.name = "a", sparse.format = "ell"}) {
  func.return
}
// CHECK: sparse.format of argument 0: unknown sparse format 'ell'; expected one of csr, csc, coo, bsr, auto

// -----

func.func @parts_out_of_order(
    %i: memref<?xi32> {graph.name = "A", sparse.format = "csr", sparse.part = "indices"},
    %p: memref<?xi32> {graph.name = "A", sparse.format = "csr", sparse.part = "indptr"},
    %d: memref<?xf32> {graph.name = "A", sparse.format = "csr", sparse.part = "data"},
    %r: i32 {graph.name = "A", sparse.format = "csr", sparse.part = "rows"},
    %c: i32 {graph.name = "A", sparse.format = "csr", sparse.part = "cols"},
    %n: i32 {graph.name = "A", sparse.format = "csr", sparse.part = "nnz"}) {
  func.return
}
// CHECK: arguments 0.. of a csr matrix must be its parts indptr, indices, data, rows, cols, nnz, got ['indices', 'indptr', 'data', 'rows', 'cols', 'nnz']

// -----

func.func @parts_of_two_names(
    %r: memref<?xi32> {graph.name = "A", sparse.format = "coo", sparse.part = "row"},
    %c: memref<?xi32> {graph.name = "A", sparse.format = "coo", sparse.part = "col"},
    %d: memref<?xf32> {graph.name = "B", sparse.format = "coo", sparse.part = "data"},
    %m: i32 {graph.name = "A", sparse.format = "coo", sparse.part = "rows"},
    %k: i32 {graph.name = "A", sparse.format = "coo", sparse.part = "cols"},
    %n: i32 {graph.name = "A", sparse.format = "coo", sparse.part = "nnz"}) {
  func.return
}
// CHECK: arguments 0.. of one coo matrix must share one graph.name

// -----

func.func @dense_with_a_part(%v: memref<?xf32> {graph.name = "v", sparse.format = "dense", sparse.part = "values"}) {
  func.return
}
// CHECK: argument 0 is a dense tensor; it has no sparse.part

// -----

func.func @auto_without_variant(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A", sparse.auto = "csr"}) {
  func.return
}
// CHECK: a function has sparse.variant_of exactly when an argument has sparse.auto

// -----

func.func @variant_without_auto(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A"}) attributes {sparse.variant_of = "f"} {
  func.return
}
// CHECK: a function has sparse.variant_of exactly when an argument has sparse.auto

// -----

func.func @auto_tag_disagrees(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A", sparse.auto = "bsr4x4"})
    attributes {sparse.variant_of = "f"} {
  func.return
}
// CHECK: argument 0 is tagged sparse.auto = "bsr4x4" but its type is tensor<?x?xf32, #sparse.format<csr>>

// -----

func.func @auto_still_auto(%A: tensor<?x?xf32, #sparse.format<auto>> {graph.name = "A", sparse.auto = "auto"})
    attributes {sparse.variant_of = "f"} {
  func.return
}
// CHECK: sparse.auto of argument 0 must name a concrete format

// -----

func.func @auto_on_a_result(%a: f32) -> (f32 {sparse.auto = "csr"}) {
  func.return %a : f32
}
// CHECK: sparse.auto is for arguments, not result 0

// -----

func.func @variant_of_nothing(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A", sparse.auto = "csr"})
    attributes {sparse.variant_of = ""} {
  func.return
}
// CHECK: sparse.variant_of must be a non-empty string, got ""
