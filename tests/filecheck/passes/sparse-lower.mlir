// RUN: ccomp-opt %s -p sparse-lower | filecheck %s
// sparse-lower: tensor functions become kernels plus a host function. A sparse matrix
// parameter becomes its storage buffers and three i32 sizes, each tagged for the
// runtime; sizes known only at run time are checked by kern.check on the host.

func.func @spmv(%A: tensor<?x?xf32, #sparse.format<csr>> {graph.name = "A"}, %v: tensor<?xf32> {graph.name = "v"}) -> tensor<?xf32> attributes {graph.outputs = ["y"]} {
  %y = sparse.matvec %A, %v : tensor<?x?xf32, #sparse.format<csr>>, tensor<?xf32> -> tensor<?xf32>
  func.return %y : tensor<?xf32>
}

// CSR matvec: one point per row; the row's entries [indptr[i], indptr[i+1]) are summed
// with 4 interleaved partial sums and a tail loop; column indices are clamped.
// CHECK-LABEL: kern.kernel @spmv_0 rank 1 {
// CHECK-NEXT:  ^bb0(%[[PTR:.*]]: memref<?xi32>, %[[IDX:.*]]: memref<?xi32>, %[[DATA:.*]]: memref<?xf32>, %[[X:.*]]: memref<?xf32>, %[[Y:.*]]: memref<?xf32>):
// CHECK-NEXT:    %[[I:.*]] = kern.index 0
// CHECK:         memref.load %[[PTR]][%[[I]]] : memref<?xi32>
// CHECK:         scf.for {{.*}} -> (f32, f32, f32, f32) {
// CHECK:           arith.maxsi
// CHECK:           arith.minsi
// CHECK:         scf.for {{.*}} -> (f32) {
// CHECK:         memref.store %{{.*}}, %[[Y]][%[[I]]] : memref<?xf32>
// CHECK-NEXT:    kern.yield
// The host: A is (indptr, indices, data, rows, cols, nnz), the column count is checked
// against the vector, y is allocated with A's rows and the kernel runs over them.
// CHECK-LABEL: func.func @spmv(
// CHECK-SAME:    %A: memref<?xi32> {graph.name = "A", sparse.format = "csr", sparse.part = "indptr"}
// CHECK-SAME:    %A_1: memref<?xi32> {graph.name = "A", sparse.format = "csr", sparse.part = "indices"}
// CHECK-SAME:    %A_2: memref<?xf32> {graph.name = "A", sparse.format = "csr", sparse.part = "data"}
// CHECK-SAME:    %A_3: i32 {graph.name = "A", sparse.format = "csr", sparse.part = "rows"}
// CHECK-SAME:    %A_4: i32 {graph.name = "A", sparse.format = "csr", sparse.part = "cols"}
// CHECK-SAME:    %A_5: i32 {graph.name = "A", sparse.format = "csr", sparse.part = "nnz"}
// CHECK-SAME:    %v: memref<?xf32> {graph.name = "v", sparse.format = "dense"}
// CHECK-SAME:    -> (memref<?xf32> {graph.name = "y", sparse.format = "dense"})
// CHECK-NEXT:    %[[ROWS:.*]] = arith.index_cast %A_3 : i32 to index
// CHECK-NEXT:    %[[COLS:.*]] = arith.index_cast %A_4 : i32 to index
// CHECK:         %[[N:.*]] = memref.dim %v, %{{.*}} : memref<?xf32>
// CHECK-NEXT:    %[[OK:.*]] = arith.cmpi eq, %[[COLS]], %[[N]] : index
// CHECK-NEXT:    kern.check %[[OK]], "the matrix has {0} columns but the vector has {1} elements"(%[[COLS]], %[[N]] : index, index)
// CHECK-NEXT:    %[[OUT:.*]] = memref.alloc(%[[ROWS]]) : memref<?xf32>
// CHECK-NEXT:    kern.launch @spmv_0[%[[ROWS]]] (%A, %A_1, %A_2, %v, %[[OUT]])
// CHECK-NEXT:    func.return %[[OUT]] : memref<?xf32>

func.func @count(%B: tensor<?x?xf32, #sparse.format<coo>> {graph.name = "B"}) -> i32 attributes {graph.outputs = ["n"]} {
  %n = sparse.nnz %B : tensor<?x?xf32, #sparse.format<coo>>
  func.return %n : i32
}

// nnz of a sparse matrix: an add reduction over its stored values that skips padding.
// CHECK-LABEL: kern.kernel @count_0 rank 1 reduce "add" {
// CHECK-NEXT:  ^bb0(%[[VALS:.*]]: memref<?xf32>, %[[STORED:.*]]: i32):
// CHECK:         arith.cmpf une
// CHECK:         kern.yield %{{.*}} : i32
// CHECK-LABEL: func.func @count(
// CHECK-SAME:    sparse.format = "coo", sparse.part = "row"
// CHECK-SAME:    -> (i32 {graph.name = "n"})
// CHECK:         %[[R:.*]] = kern.launch @count_0[%{{.*}}] (%B_2, %{{.*}}) : (memref<?xf32>, i32) -> i32
// CHECK-NEXT:    func.return %[[R]] : i32

func.func @scale(%m: tensor<?x?xf32> {graph.name = "m"}, %row: tensor<?xf32> {graph.name = "row"}, %s: f32 {graph.name = "s"}) -> f32 attributes {graph.outputs = ["t"]} {
  %e = sparse.elementwise(%m, %row, %s) : (tensor<?x?xf32>, tensor<?xf32>, f32) -> tensor<?x?xf32> {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %p = arith.addf %x, %y : f32
    %q = arith.mulf %p, %z : f32
    sparse.yield %q : f32
  }
  %t = sparse.reduce "add" %e : tensor<?x?xf32>
  func.return %t : f32
}

// elementwise: one point per result element, the op's body inlined between the loads
// (a stretched axis of size 1 reads index 0) and the store.
// CHECK-LABEL: kern.kernel @scale_0 rank 2 {
// CHECK-NEXT:  ^bb0(%[[M:.*]]: memref<?x?xf32>, %[[ROW:.*]]: memref<?xf32>, %[[S:.*]]: f32, %[[E:.*]]: memref<?x?xf32>):
// CHECK:         arith.select
// CHECK:         %[[P:.*]] = arith.addf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:    %[[Q:.*]] = arith.mulf %[[P]], %[[S]] : f32
// CHECK-NEXT:    memref.store %[[Q]], %[[E]][%{{.*}}, %{{.*}}] : memref<?x?xf32>
// CHECK-NEXT:    kern.yield
// CHECK-LABEL: kern.kernel @scale_1 rank 2 reduce "add" {
// CHECK:         kern.yield %{{.*}} : f32
// The host checks that the shapes broadcast before allocating the result.
// CHECK-LABEL: func.func @scale(
// CHECK:         kern.check %{{.*}}, "shapes do not broadcast: a size {0} against {1}"
// CHECK:         %[[BUF:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?xf32>
// CHECK-NEXT:    kern.launch @scale_0[%{{.*}}, %{{.*}}] (%m, %row, %s, %[[BUF]])
// CHECK:         %[[T:.*]] = kern.launch @scale_1[%{{.*}}, %{{.*}}] (%[[BUF]]) : (memref<?x?xf32>) -> f32
// CHECK-NEXT:    func.return %[[T]] : f32

func.func @densify(%C: tensor<?x?xf32, #sparse.format<csc>> {graph.name = "C"}) -> tensor<?x?xf32> attributes {graph.outputs = ["d"]} {
  %d = sparse.convert %C : tensor<?x?xf32, #sparse.format<csc>> to tensor<?x?xf32>
  func.return %d : tensor<?x?xf32>
}

// csc -> dense: a zero fill, then one point per column scattering its entries.
// CHECK-LABEL: kern.kernel @densify_0 rank 2 {
// CHECK:         memref.store
// CHECK-LABEL: kern.kernel @densify_1 rank 1 {
// CHECK:         scf.for
// CHECK-LABEL: func.func @densify(
// CHECK:         %[[D:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?xf32>
// CHECK:         kern.launch @densify_0[%[[COLS:.*]], %[[ROWS:.*]]] (%[[D]], %{{.*}}) : (memref<?x?xf32>, f32) -> ()
// CHECK-NEXT:    kern.launch @densify_1[%[[COLS]]] (%C, %C_1, %C_2, %[[D]])
// CHECK-NEXT:    func.return %[[D]] : memref<?x?xf32>

func.func @iterate(%v: tensor<?xf32> {graph.name = "v"}, %n: i32 {graph.name = "n"}) -> tensor<?xf32> attributes {graph.outputs = ["r"]} {
  %r = loop.repeat %n(%v) : (tensor<?xf32>) -> tensor<?xf32> {
  ^bb0(%i: i32, %u: tensor<?xf32>):
    %w = sparse.elementwise(%u) : (tensor<?xf32>) -> tensor<?xf32> {
    ^bb0(%a: f32):
      %b = arith.addf %a, %a : f32
      sparse.yield %b : f32
    }
    loop.yield %w : tensor<?xf32>
  }
  func.return %r : tensor<?xf32>
}

// A repeat zone keeps its shape with buffers as state (loop-pingpong lowers it).
// CHECK-LABEL: func.func @iterate(
// CHECK:         %{{.*}} = loop.repeat %n(%v) : (memref<?xf32>) -> memref<?xf32> {
// CHECK-NEXT:    ^bb0(%i: i32, %u: memref<?xf32>):
// CHECK:           kern.launch @iterate_0
// CHECK:           loop.yield %{{.*}} : memref<?xf32>
// CHECK-NOT:     sparse.
