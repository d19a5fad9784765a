// RUN: ccomp-opt %s -p graph-to-kern | filecheck %s
// graph-to-kern on fused L1 (every sink reads one map over images): each sink
// becomes one kern.kernel plus a kern.launch in the host function.

func.func @scale(%src: !graph.image<f32>, %gain: f32) -> !graph.image<f32> {
  %c = arith.constant 2.500000e-01 : f32
  %sz = graph.size %src : !graph.image<f32>
  %f = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    %m = arith.mulf %s, %gain : f32
    %p = arith.addf %m, %c : f32
    graph.yield %p : f32
  }
  %o = graph.capture %f, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// One kernel per sink, over the sink's extent. Its bindings are the map's images,
// then the uniforms it reads, then the output buffer; constants are cloned in. The
// image that gives the extent is read at the current point, unclamped.
// CHECK-LABEL: kern.kernel @scale_0 rank 2 {
// CHECK-NEXT:  ^bb0(%[[SRC:.*]]: memref<?x?xf32>, %[[GAIN:.*]]: f32, %[[OUT:.*]]: memref<?x?xf32>):
// CHECK-NEXT:    %[[X:.*]] = kern.index 0
// CHECK-NEXT:    %[[Y:.*]] = kern.index 1
// CHECK-NEXT:    %[[V:.*]] = memref.load %[[SRC]][%[[Y]], %[[X]]] : memref<?x?xf32>
// CHECK-NEXT:    %c = arith.constant 2.500000e-01 : f32
// CHECK-NEXT:    %m = arith.mulf %[[V]], %[[GAIN]] : f32
// CHECK-NEXT:    %p = arith.addf %m, %c : f32
// CHECK-NEXT:    memref.store %p, %[[OUT]][%[[Y]], %[[X]]] : memref<?x?xf32>
// CHECK-NEXT:    kern.yield
// CHECK-NEXT:  }
// The host function keeps the signature, images as memrefs: (w, h) from memref.dim
// (dim 0 is the height), a buffer for the capture, and a launch over [w, h].
// CHECK-LABEL: func.func @scale(%src: memref<?x?xf32>, %gain: f32) -> memref<?x?xf32> {
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[H:.*]] = memref.dim %src, %[[C0]] : memref<?x?xf32>
// CHECK-NEXT:    %[[W:.*]] = memref.dim %src, %[[C1]] : memref<?x?xf32>
// CHECK:         %[[BUF:.*]] = memref.alloc(%[[H]], %[[W]]) : memref<?x?xf32>
// CHECK-NEXT:    kern.launch @scale_0[%[[W]], %[[H]]] (%src, %gain, %[[BUF]]) : (memref<?x?xf32>, f32, memref<?x?xf32>) -> ()
// CHECK-NEXT:    func.return %[[BUF]] : memref<?x?xf32>

func.func @average(%src: !graph.image<f32>) -> f32 {
  %sz = graph.size %src : !graph.image<f32>
  %f = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    graph.yield %s : f32
  }
  %r = graph.reduce "mean" %f, %sz : !graph.field<f32> -> f32
  func.return %r : f32
}

// mean is an "add" reduce kernel; the host divides by the element count w * h.
// CHECK-LABEL: kern.kernel @average_0 rank 2 reduce "add" {
// CHECK-NEXT:  ^bb0(%[[SRC:.*]]: memref<?x?xf32>):
// CHECK-NEXT:    %[[X:.*]] = kern.index 0
// CHECK-NEXT:    %[[Y:.*]] = kern.index 1
// CHECK-NEXT:    %[[V:.*]] = memref.load %[[SRC]][%[[Y]], %[[X]]] : memref<?x?xf32>
// CHECK-NEXT:    kern.yield %[[V]] : f32
// CHECK-NEXT:  }
// CHECK-LABEL: func.func @average(%src: memref<?x?xf32>) -> f32 {
// CHECK:         %[[H:.*]] = memref.dim %src, %{{.*}} : memref<?x?xf32>
// CHECK-NEXT:    %[[W:.*]] = memref.dim %src, %{{.*}} : memref<?x?xf32>
// CHECK:         %[[SUM:.*]] = kern.launch @average_0[%[[W]], %[[H]]] (%src) : (memref<?x?xf32>) -> f32
// CHECK-NEXT:    %[[N:.*]] = arith.muli %[[W]], %[[H]] : index
// CHECK-NEXT:    %[[NI:.*]] = arith.index_cast %[[N]] : index to i32
// CHECK-NEXT:    %[[NF:.*]] = arith.sitofp %[[NI]] : i32 to f32
// CHECK-NEXT:    %[[MEAN:.*]] = arith.divf %[[SUM]], %[[NF]] : f32
// CHECK-NEXT:    func.return %[[MEAN]] : f32

func.func @stencil(%src: !graph.image<f32>) -> !graph.image<f32> {
  %one = arith.constant 1 : i32
  %sz = graph.size %src : !graph.image<f32>
  %f = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%s: f32):
    %x = graph.coord 0 : i32
    %y = graph.coord 1 : i32
    %xp = arith.addi %x, %one : i32
    %n = graph.load %src[%xp, %y] : !graph.image<f32> -> f32
    %d = arith.subf %n, %s : f32
    graph.yield %d : f32
  }
  %o = graph.capture %f, %sz : !graph.field<f32> -> !graph.image<f32>
  func.return %o : !graph.image<f32>
}

// A neighbour read clamps each coordinate to [0, size - 1] (maxsi, minsi) before
// the load; the map's own input is read unclamped at the current point.
// CHECK-LABEL: kern.kernel @stencil_0 rank 2 {
// CHECK-NEXT:  ^bb0(%[[SRC:.*]]: memref<?x?xf32>, %[[OUT:.*]]: memref<?x?xf32>):
// CHECK-NEXT:    %[[X:.*]] = kern.index 0
// CHECK-NEXT:    %[[Y:.*]] = kern.index 1
// CHECK-NEXT:    %[[HERE:.*]] = memref.load %[[SRC]][%[[Y]], %[[X]]] : memref<?x?xf32>
// CHECK-NEXT:    %one = arith.constant 1 : i32
// CHECK-NEXT:    %[[XI:.*]] = arith.index_cast %[[X]] : index to i32
// CHECK-NEXT:    %[[YI:.*]] = arith.index_cast %[[Y]] : index to i32
// CHECK-NEXT:    %xp = arith.addi %[[XI]], %one : i32
// CHECK:         %[[H:.*]] = memref.dim %[[SRC]], %{{.*}} : memref<?x?xf32>
// CHECK:         %[[W:.*]] = memref.dim %[[SRC]], %{{.*}} : memref<?x?xf32>
// CHECK-NEXT:    %[[YIX:.*]] = arith.index_cast %[[YI]] : i32 to index
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[HM1:.*]] = arith.subi %[[H]], %[[ONE]] : index
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[YLO:.*]] = arith.maxsi %[[YIX]], %[[ZERO]] : index
// CHECK-NEXT:    %[[YC:.*]] = arith.minsi %[[YLO]], %[[HM1]] : index
// CHECK-NEXT:    %[[XIX:.*]] = arith.index_cast %xp : i32 to index
// CHECK-NEXT:    %[[ONE2:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[WM1:.*]] = arith.subi %[[W]], %[[ONE2]] : index
// CHECK-NEXT:    %[[ZERO2:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[XLO:.*]] = arith.maxsi %[[XIX]], %[[ZERO2]] : index
// CHECK-NEXT:    %[[XC:.*]] = arith.minsi %[[XLO]], %[[WM1]] : index
// CHECK-NEXT:    %[[N:.*]] = memref.load %[[SRC]][%[[YC]], %[[XC]]] : memref<?x?xf32>
// CHECK-NEXT:    %d = arith.subf %[[N]], %[[HERE]] : f32
// CHECK-NEXT:    memref.store %d, %[[OUT]][%[[Y]], %[[X]]] : memref<?x?xf32>
// CHECK-LABEL: func.func @stencil(
// CHECK:         kern.launch @stencil_0

func.func @resample(%src: !graph.image<vector<4xf32>>, %uv: vector<2xf32>) -> !graph.image<vector<4xf32>> {
  %sz = graph.size %src : !graph.image<vector<4xf32>>
  %f = graph.map() : () -> !graph.field<vector<4xf32>> {
    %s = graph.sample %src, %uv : !graph.image<vector<4xf32>> -> vector<4xf32>
    graph.yield %s : vector<4xf32>
  }
  %o = graph.capture %f, %sz : !graph.field<vector<4xf32>> -> !graph.image<vector<4xf32>>
  func.return %o : !graph.image<vector<4xf32>>
}

// graph.sample is bilinear: texel coordinates uv * size - 0.5, floor and fraction,
// four clamped loads, then lerps along x and along y (the weights broadcast for
// vector elements).
// CHECK-LABEL: kern.kernel @resample_0 rank 2 {
// CHECK-NEXT:  ^bb0(%[[SRC:.*]]: memref<?x?xvector<4xf32>>, %[[UV:.*]]: vector<2xf32>, %[[OUT:.*]]: memref<?x?xvector<4xf32>>):
// CHECK:         %[[U:.*]] = vector.extract %[[UV]][0] : f32 from vector<2xf32>
// CHECK:         %[[PX:.*]] = arith.mulf %[[U]], %{{.*}} : f32
// CHECK-NEXT:    %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT:    %[[TX:.*]] = arith.subf %[[PX]], %[[HALF]] : f32
// CHECK-NEXT:    %[[X0F:.*]] = math.floor %[[TX]] : f32
// CHECK-NEXT:    %[[FX:.*]] = arith.subf %[[TX]], %[[X0F]] : f32
// CHECK-NEXT:    %[[X0:.*]] = arith.fptosi %[[X0F]] : f32 to i32
// CHECK:         %[[V:.*]] = vector.extract %[[UV]][1] : f32 from vector<2xf32>
// CHECK:         math.floor
// CHECK-COUNT-2: arith.minsi
// CHECK-NEXT:    %[[A:.*]] = memref.load %[[SRC]][%{{.*}}, %{{.*}}] : memref<?x?xvector<4xf32>>
// CHECK-COUNT-2: arith.minsi
// CHECK-NEXT:    %[[B:.*]] = memref.load %[[SRC]][%{{.*}}, %{{.*}}] : memref<?x?xvector<4xf32>>
// CHECK-COUNT-2: arith.minsi
// CHECK-NEXT:    %[[C:.*]] = memref.load %[[SRC]][%{{.*}}, %{{.*}}] : memref<?x?xvector<4xf32>>
// CHECK-COUNT-2: arith.minsi
// CHECK-NEXT:    %[[D:.*]] = memref.load %[[SRC]][%{{.*}}, %{{.*}}] : memref<?x?xvector<4xf32>>
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    %[[OMFX:.*]] = arith.subf %[[ONE]], %[[FX]] : f32
// CHECK-NEXT:    %[[FXV:.*]] = vector.broadcast %[[FX]] : f32 to vector<4xf32>
// CHECK-NEXT:    %[[OMFXV:.*]] = vector.broadcast %[[OMFX]] : f32 to vector<4xf32>
// CHECK-NEXT:    %[[AW:.*]] = arith.mulf %[[A]], %[[OMFXV]] : vector<4xf32>
// CHECK-NEXT:    %[[BW:.*]] = arith.mulf %[[B]], %[[FXV]] : vector<4xf32>
// CHECK-NEXT:    %[[TOP:.*]] = arith.addf %[[AW]], %[[BW]] : vector<4xf32>
// CHECK:         %[[BOTTOM:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK:         %[[R:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK-NEXT:    memref.store %[[R]], %[[OUT]][%{{.*}}, %{{.*}}] : memref<?x?xvector<4xf32>>
// CHECK-NEXT:    kern.yield
// CHECK-LABEL: func.func @resample(%src: memref<?x?xvector<4xf32>>, %uv: vector<2xf32>) -> memref<?x?xvector<4xf32>> {
// CHECK:         kern.launch @resample_0[%{{.*}}, %{{.*}}] (%src, %uv, %{{.*}}) : (memref<?x?xvector<4xf32>>, vector<2xf32>, memref<?x?xvector<4xf32>>) -> ()
