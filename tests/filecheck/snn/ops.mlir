// RUN: ccomp-opt %s | ccomp-opt | filecheck %s
// RUN: ccomp-opt %s --print-op-generic | ccomp-opt | filecheck %s

// Every snn op survives printing and both parsers: encoders, LIF layers, dense, sparse
// and initialised connections, STDP, decoders and learned weights.
// CHECK-LABEL: func.func @net
// CHECK:       snn.network steps %{{.*}} seed %{{.*}} attributes {dt = 1.000000e-03 : f64} -> tensor<4xi32>, tensor<?x2xi32>, tensor<6x4xf32>, tensor<4xf32> {
// CHECK:         %[[S:.*]] = snn.encode %x {kind = "poisson", label = "s", param = 1.000000e+02 : f64, stream = 256 : i64} : tensor<6xf32> -> !snn.population<6>
// CHECK:         %[[L:.*]] = snn.encode %x {kind = "latency", label = "l", param = 2.000000e-02 : f64, stream = 257 : i64} : tensor<6xf32> -> !snn.population<6>
// CHECK:         %[[H:.*]] = snn.lif {label = "h", size = 4 : i64, {{.*}}refractory = 2.000000e-03 : f64{{.*}}} : !snn.population<4>
// CHECK:         %[[W:.*]] = snn.init_weights {kind = "normal", a = 0.000000e+00 : f64, b = 1.000000e-01 : f64, stream = 514 : i64} : tensor<4x4xf32>
// CHECK:         %[[C:.*]] = snn.connect %[[S]], %[[H]], %w {delay = 0 : i64, index = 0 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32> -> !snn.synapses
// CHECK:         snn.connect %[[L]], %[[H]], %ws {delay = 1 : i64, index = 1 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32, #sparse.format<csr>> -> !snn.synapses
// CHECK:         snn.connect %[[H]], %[[H]], %[[W]] {delay = 2 : i64, index = 2 : i64}
// CHECK:         snn.stdp %[[C]] {a_plus = 1.000000e-02 : f64, a_minus = 1.200000e-02 : f64, tau_plus = 2.000000e-02 : f64, tau_minus = 2.000000e-02 : f64, w_min = 0.000000e+00 : f64, w_max = 1.000000e+00 : f64}
// CHECK:         snn.decode %[[H]] {kind = "spike_count"} : !snn.population<4> -> tensor<4xi32>
// CHECK:         snn.decode %[[H]] {kind = "raster"} : !snn.population<4> -> tensor<?x2xi32>
// CHECK:         snn.weights %[[C]] : tensor<6x4xf32>
// CHECK:         snn.decode %[[H]] {kind = "voltage"} : !snn.population<4> -> tensor<4xf32>
// CHECK:         snn.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4xi32>, tensor<?x2xi32>, tensor<6x4xf32>, tensor<4xf32>
func.func @net(%x: tensor<6xf32>, %w: tensor<6x4xf32>, %ws: tensor<6x4xf32, #sparse.format<csr>>, %steps: i32, %seed: i64)
    -> (tensor<4xi32>, tensor<?x2xi32>, tensor<6x4xf32>, tensor<4xf32>) {
  %r:4 = snn.network steps %steps seed %seed attributes {dt = 1.0e-03 : f64} -> tensor<4xi32>, tensor<?x2xi32>, tensor<6x4xf32>, tensor<4xf32> {
    %s = snn.encode %x {kind = "poisson", label = "s", param = 100.0 : f64, stream = 256 : i64} : tensor<6xf32> -> !snn.population<6>
    %l = snn.encode %x {kind = "latency", label = "l", param = 0.02 : f64, stream = 257 : i64} : tensor<6xf32> -> !snn.population<6>
    %h = snn.lif {label = "h", size = 4 : i64, tau = 0.01 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, v_rest = 0.0 : f64, r = 1.0 : f64, refractory = 0.002 : f64, bias = 0.0 : f64} : !snn.population<4>
    %wr = snn.init_weights {kind = "normal", a = 0.0 : f64, b = 0.1 : f64, stream = 514 : i64} : tensor<4x4xf32>
    %c = snn.connect %s, %h, %w {delay = 0 : i64, index = 0 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32> -> !snn.synapses
    %c2 = snn.connect %l, %h, %ws {delay = 1 : i64, index = 1 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32, #sparse.format<csr>> -> !snn.synapses
    %c3 = snn.connect %h, %h, %wr {delay = 2 : i64, index = 2 : i64} : !snn.population<4>, !snn.population<4>, tensor<4x4xf32> -> !snn.synapses
    snn.stdp %c {a_plus = 0.01 : f64, a_minus = 0.012 : f64, tau_plus = 0.02 : f64, tau_minus = 0.02 : f64, w_min = 0.0 : f64, w_max = 1.0 : f64}
    %n = snn.decode %h {kind = "spike_count"} : !snn.population<4> -> tensor<4xi32>
    %ras = snn.decode %h {kind = "raster"} : !snn.population<4> -> tensor<?x2xi32>
    %lw = snn.weights %c : tensor<6x4xf32>
    %v = snn.decode %h {kind = "voltage"} : !snn.population<4> -> tensor<4xf32>
    snn.yield %n, %ras, %lw, %v : tensor<4xi32>, tensor<?x2xi32>, tensor<6x4xf32>, tensor<4xf32>
  }
  func.return %r#0, %r#1, %r#2, %r#3 : tensor<4xi32>, tensor<?x2xi32>, tensor<6x4xf32>, tensor<4xf32>
}
