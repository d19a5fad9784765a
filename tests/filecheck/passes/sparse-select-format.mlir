// RUN: ccomp-opt %s -p sparse-select-format | filecheck %s
// RUN: ccomp-opt %s -p 'sparse-select-format{candidates="csr,coo"}' | filecheck %s --check-prefix=PICK
// sparse-select-format: a function with `auto` parameters becomes one variant per
// candidate format of each (the product over several), named <fn>__<formats>, tagged
// sparse.variant_of; each chosen parameter carries sparse.auto for the runtime.

func.func @spmv(%A: tensor<?x?xf32, #sparse.format<auto>> {graph.name = "A"}, %v: tensor<?xf32> {graph.name = "v"}) -> tensor<?xf32> attributes {graph.outputs = ["y"]} {
  %n = sparse.dim %A[0] : tensor<?x?xf32, #sparse.format<auto>>
  %y = sparse.matvec %A, %v : tensor<?x?xf32, #sparse.format<auto>>, tensor<?xf32> -> tensor<?xf32>
  func.return %y : tensor<?xf32>
}

// The default candidates: dense, csr, bsr 4x4 and 8x8, in that order; the uses of the
// parameter take its new type.
// CHECK-NOT:   func.func @spmv(
// CHECK-LABEL: func.func @spmv__dense(%A: tensor<?x?xf32> {graph.name = "A", sparse.auto = "dense"}, %v: tensor<?xf32> {graph.name = "v"}) -> tensor<?xf32> attributes {graph.outputs = ["y"], sparse.variant_of = "spmv"} {
// CHECK-NEXT:    %n = sparse.dim %A[0] : tensor<?x?xf32>
// CHECK-NEXT:    %y = sparse.matvec %A, %v : tensor<?x?xf32>, tensor<?xf32> -> tensor<?xf32>
// CHECK-LABEL: func.func @spmv__csr(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A", sparse.auto = "csr"}
// CHECK-SAME:    sparse.variant_of = "spmv"
// CHECK-NEXT:    %n = sparse.dim %A[0] : tensor<?x?xf32, #sparse.format<csr>>
// CHECK-NEXT:    %y = sparse.matvec %A, %v : tensor<?x?xf32, #sparse.format<csr>>, tensor<?xf32> -> tensor<?xf32>
// CHECK-LABEL: func.func @spmv__bsr4x4(%A: tensor<?x?xf32, #sparse.format<bsr[4, 4]>> {graph.name = "A", sparse.auto = "bsr4x4"}
// CHECK-LABEL: func.func @spmv__bsr8x8(%A: tensor<?x?xf32, #sparse.format<bsr[8, 8]>> {graph.name = "A", sparse.auto = "bsr8x8"}

func.func @two(%A: tensor<?x?xf32, #sparse.format<auto>> {graph.name = "A"}, %B: tensor<?x?xf32, #sparse.format<auto>> {graph.name = "B"}) -> i32 attributes {graph.outputs = ["n"]} {
  %n = sparse.nnz %A : tensor<?x?xf32, #sparse.format<auto>>
  func.return %n : i32
}

// Two auto parameters: every pair of candidates, the first parameter's format first.
// PICK-LABEL: func.func @two__csr_csr(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A", sparse.auto = "csr"}, %B: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "B", sparse.auto = "csr"})
// PICK-LABEL: func.func @two__csr_coo(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A", sparse.auto = "csr"}, %B: tensor<?x?xf32, #sparse.format<coo>> {graph.name = "B", sparse.auto = "coo"})
// PICK-LABEL: func.func @two__coo_csr(
// PICK-LABEL: func.func @two__coo_coo(
// PICK-NOT:   func.func @two(

func.func @fixed(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A"}) -> i32 attributes {graph.outputs = ["n"]} {
  %n = sparse.nnz %A : tensor<?x?xf32, #sparse.format<csr>>
  func.return %n : i32
}

// A function without auto parameters is left as it is.
// CHECK-LABEL: func.func @fixed(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A"}) -> i32 attributes {graph.outputs = ["n"]} {
// CHECK-NEXT:    %n = sparse.nnz %A : tensor<?x?xf32, #sparse.format<csr>>
// PICK-LABEL:  func.func @fixed(
