// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @f(%x: tensor<6xf32>, %steps: i32, %seed: i64) -> tensor<4xi32> {
  %r = snn.network steps %steps seed %seed attributes {dt = 0.0 : f64} -> tensor<4xi32> {
    %h = snn.lif {label = "h", size = 4 : i64, tau = 0.01 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, v_rest = 0.0 : f64, r = 1.0 : f64, refractory = 0.0 : f64, bias = 0.0 : f64} : !snn.population<4>
    %n = snn.decode %h {kind = "spike_count"} : !snn.population<4> -> tensor<4xi32>
    snn.yield %n : tensor<4xi32>
  }
  func.return %r : tensor<4xi32>
}
// CHECK: snn.network dt must be positive

// -----

func.func @f(%x: tensor<6xf32>, %w: tensor<6x5xf32>, %steps: i32, %seed: i64) -> tensor<4xi32> {
  %r = snn.network steps %steps seed %seed attributes {dt = 0.001 : f64} -> tensor<4xi32> {
    %s = snn.encode %x {kind = "poisson", label = "s", param = 100.0 : f64, stream = 256 : i64} : tensor<6xf32> -> !snn.population<6>
    %h = snn.lif {label = "h", size = 4 : i64, tau = 0.01 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, v_rest = 0.0 : f64, r = 1.0 : f64, refractory = 0.0 : f64, bias = 0.0 : f64} : !snn.population<4>
    %c = snn.connect %s, %h, %w {delay = 0 : i64, index = 0 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x5xf32> -> !snn.synapses
    %n = snn.decode %h {kind = "spike_count"} : !snn.population<4> -> tensor<4xi32>
    snn.yield %n : tensor<4xi32>
  }
  func.return %r : tensor<4xi32>
}
// CHECK: snn.connect weights tensor<6x5xf32> do not match 6 sources x 4 targets

// -----

func.func @f(%x: tensor<6xf32>, %steps: i32, %seed: i64) -> tensor<6xi32> {
  %r = snn.network steps %steps seed %seed attributes {dt = 0.001 : f64} -> tensor<6xi32> {
    %s = snn.encode %x {kind = "gauss", label = "s", param = 100.0 : f64, stream = 256 : i64} : tensor<6xf32> -> !snn.population<6>
    %n = snn.decode %s {kind = "spike_count"} : !snn.population<6> -> tensor<6xi32>
    snn.yield %n : tensor<6xi32>
  }
  func.return %r : tensor<6xi32>
}
// CHECK: snn.encode kind must be one of poisson, latency, spikes

// -----

func.func @f(%x: tensor<6xf32>, %steps: i32, %seed: i64) -> tensor<6xf32> {
  %r = snn.network steps %steps seed %seed attributes {dt = 0.001 : f64} -> tensor<6xf32> {
    %s = snn.encode %x {kind = "poisson", label = "s", param = 100.0 : f64, stream = 256 : i64} : tensor<6xf32> -> !snn.population<6>
    %v = snn.decode %s {kind = "voltage"} : !snn.population<6> -> tensor<6xf32>
    snn.yield %v : tensor<6xf32>
  }
  func.return %r : tensor<6xf32>
}
// CHECK: snn.decode voltage reads a snn.lif layer

// -----

func.func @f(%x: tensor<?x6xf32>, %w: tensor<6x4xf32>, %steps: i32, %seed: i64) -> tensor<?x4xi32> {
  %r = snn.network steps %steps seed %seed attributes {dt = 0.001 : f64, batched} -> tensor<?x4xi32> {
    %s = snn.encode %x {kind = "poisson", label = "s", param = 100.0 : f64, stream = 256 : i64} : tensor<?x6xf32> -> !snn.population<6>
    %h = snn.lif {label = "h", size = 4 : i64, tau = 0.01 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, v_rest = 0.0 : f64, r = 1.0 : f64, refractory = 0.0 : f64, bias = 0.0 : f64} : !snn.population<4>
    %c = snn.connect %s, %h, %w {delay = 0 : i64, index = 0 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32> -> !snn.synapses
    snn.stdp %c {a_plus = 0.01 : f64, a_minus = 0.012 : f64, tau_plus = 0.02 : f64, tau_minus = 0.02 : f64, w_min = 0.0 : f64, w_max = 1.0 : f64}
    %n = snn.decode %h {kind = "spike_count"} : !snn.population<4> -> tensor<?x4xi32>
    snn.yield %n : tensor<?x4xi32>
  }
  func.return %r : tensor<?x4xi32>
}
// CHECK: a batched snn.network cannot learn (weights are shared by the batch)
