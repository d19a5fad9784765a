// RUN: ccomp-opt %s -p snn-lower | filecheck %s
// RUN: ccomp-opt %s -p 'snn-lower{event=targets}' | filecheck %s --check-prefix=TARGETS
// snn-lower: a network becomes per-step kernels in one host scf.for over the steps.
// A poisson input at 100 Hz x 1 ms (expected fraction 0.1) is delivered event-driven
// (a spike list, then only the listed sources' rows); a 600 Hz input (0.6) densely.

func.func @net(%x: tensor<6xf32> {graph.name = "x"}, %w: tensor<6x4xf32> {graph.name = "w"}, %seed: i64 {graph.name = "seed"}) -> tensor<4xi32> attributes {graph.outputs = ["n"]} {
  %steps = arith.constant 20 : i32
  %r = snn.network steps %steps seed %seed attributes {dt = 1.0e-03 : f64} -> tensor<4xi32> {
    %s = snn.encode %x {kind = "poisson", label = "s", param = 100.0 : f64, stream = 256 : i64} : tensor<6xf32> -> !snn.population<6>
    %f = snn.encode %x {kind = "poisson", label = "f", param = 600.0 : f64, stream = 257 : i64} : tensor<6xf32> -> !snn.population<6>
    %h = snn.lif {label = "h", size = 4 : i64, tau = 0.01 : f64, v_th = 1.0 : f64, v_reset = 0.0 : f64, v_rest = 0.0 : f64, r = 1.0 : f64, refractory = 0.002 : f64, bias = 0.0 : f64} : !snn.population<4>
    %c = snn.connect %s, %h, %w {delay = 0 : i64, index = 0 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32> -> !snn.synapses
    %c2 = snn.connect %f, %h, %w {delay = 3 : i64, index = 1 : i64} : !snn.population<6>, !snn.population<4>, tensor<6x4xf32> -> !snn.synapses
    %n = snn.decode %h {kind = "spike_count"} : !snn.population<4> -> tensor<4xi32>
    snn.yield %n : tensor<4xi32>
  }
  func.return %r : tensor<4xi32>
}

// The Poisson encoder: Philox on (step, neuron, batch, stream 256), uniform01 < x * rate * dt.
// CHECK:       kern.kernel @[[POISSON:net_[0-9]+]] rank 2 {
// CHECK:         arith.constant 256 : i32
// CHECK:         arith.constant 1.000000e-01 : f32
// CHECK:         arith.cmpf olt
// CHECK:       kern.kernel @[[POISSON2:net_[0-9]+]] rank 2 {
// CHECK:         arith.constant 257 : i32
// The membrane step: exact integration with exp(-1/10) = 0.904837, threshold, reset, refractory.
// CHECK:       kern.kernel @[[LIF:net_[0-9]+]] rank 2 {
// CHECK:         arith.constant 0.904837{{[0-9]*}} : f32
// CHECK:         arith.cmpf oge
// By rows (CPUs): one point per batch scans the spike flags and adds each spiking
// source's row to a scratch sum, then the sum to the ring.
// CHECK:       kern.kernel @[[EVENT:net_[0-9]+]] rank 1 {
// CHECK:         scf.for
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             scf.for
// CHECK:       kern.kernel @[[DENSE:net_[0-9]+]] rank 2 {
// The host: state filled once, then the time loop.
// CHECK-LABEL: func.func @net(
// CHECK:         kern.check
// CHECK:         scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:           %[[T32:.*]] = arith.index_cast %[[T]] : index to i32
// CHECK:           kern.launch @[[POISSON]]
// CHECK:           kern.launch @[[POISSON2]]
// CHECK:           kern.launch @[[LIF]]
// CHECK:           kern.launch @[[EVENT]]
// CHECK:           kern.launch @[[DENSE]]
// CHECK:         }
// CHECK:         func.return

// By targets (GPUs, snn-lower{event=targets}): the spikes are compacted into a list,
// then one point per target and batch adds the listed sources' weights.
// TARGETS:     kern.kernel @[[COMPACT:net_[0-9]+]] rank 1 {
// TARGETS:     kern.kernel @[[EVENT:net_[0-9]+]] rank 2 {
// TARGETS:       kern.index 0
// TARGETS:       kern.index 1
// TARGETS:       scf.for
// TARGETS:     kern.kernel @{{net_[0-9]+}} rank 2 {
// TARGETS-LABEL: func.func @net(
// TARGETS:       kern.launch @[[COMPACT]]
// TARGETS:       kern.launch @[[EVENT]]
