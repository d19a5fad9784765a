// RUN: ccomp-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @bad_reduce(%src: !graph.image<f32>) -> f32 {
  %sz = graph.size %src : !graph.image<f32>
  %r = graph.reduce "median" %src, %sz : !graph.image<f32> -> f32
  func.return %r : f32
}
// CHECK: graph.reduce kind must be one of add, min, max, mean

// -----

func.func @coord_outside() -> i32 {
  %x = graph.coord 0 : i32
  func.return %x : i32
}
// CHECK: graph.coord is only meaningful inside a graph.map body

// -----

func.func @bad_yield(%src: !graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: f32):
    %c = arith.constant 1 : i32
    graph.yield %c : i32
  }
  func.return %m : !graph.field<f32>
}
// CHECK: graph.map yields i32 but its result is !graph.field<f32>

// -----

func.func @bad_args(%src: !graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map(%src) : (!graph.image<f32>) -> !graph.field<f32> {
  ^bb0(%v: vector<4xf32>):
    %c = arith.constant 1.0 : f32
    graph.yield %c : f32
  }
  func.return %m : !graph.field<f32>
}
// CHECK: graph.map block argument vector<4xf32> does not match input element f32

// -----

func.func @bad_blur(%src: !graph.image<f32>) -> !graph.field<f32> {
  %b = graph.blur %src radius -1 : !graph.image<f32> -> !graph.field<f32>
  func.return %b : !graph.field<f32>
}
// CHECK: graph.blur radius must be non-negative

// -----

func.func @implicit_image(%src: !graph.image<f32>) -> !graph.image<f32> {
  %sz = graph.size %src : !graph.image<f32>
  %c = graph.capture %src, %sz implicit : !graph.image<f32> -> !graph.image<f32>
  func.return %c : !graph.image<f32>
}
// CHECK: an implicit graph.capture materialises a field, not an image

// -----

func.func @negative_group(%src: !graph.image<f32>) -> f32 {
  %sz = graph.size %src : !graph.image<f32>
  %r = graph.reduce "add" %src, %sz group -1 : !graph.image<f32> -> f32
  func.return %r : f32
}
// CHECK: graph.reduce group must be non-negative, got -1

// -----

func.func @two_reductions_in_a_kernel(%src: !graph.image<f32>) -> (f32, f32) {
  %sz = graph.size %src : !graph.image<f32>
  %a = graph.reduce "add" %src, %sz group 0 : !graph.image<f32> -> f32
  %b = graph.reduce "max" %src, %sz group 0 : !graph.image<f32> -> f32
  func.return %a, %b : f32, f32
}
// CHECK: kernel group 0 has more than one graph.reduce

// -----

// The contracts of the last stage's spelling are gone: a discardable graph.* attribute
// is a misspelt contract.
func.func @stale_attribute(%src: !graph.image<f32>) -> f32 {
  %sz = graph.size %src : !graph.image<f32>
  %r = graph.reduce "add" %src, %sz {graph.kernel = 0 : i64} : !graph.image<f32> -> f32
  func.return %r : f32
}
// CHECK: unknown attribute 'graph.kernel' on graph.reduce

// -----

func.func @misspelt_outputs(%a: f32) -> f32 attributes {graph.ouputs = ["a"]} {
  func.return %a : f32
}
// CHECK: unknown attribute 'graph.ouputs' on func.func

// -----

func.func @name_not_a_string(%a: f32 {graph.name = 3 : i32}) -> f32 {
  func.return %a : f32
}
// CHECK: graph.name of argument 0 must be a non-empty string, got 3 : i32

// -----

func.func @default_of_another_type(%a: i32 {graph.name = "a", graph.default = 1.5 : f32}) -> i32 {
  func.return %a : i32
}
// CHECK: graph.default of argument 0 must be a literal of type i32, got 1.500000e+00 : f32

// -----

func.func @default_on_a_result(%a: f32) -> (f32 {graph.default = 1.0 : f32}) {
  func.return %a : f32
}
// CHECK: graph.default is for arguments, not result 0

// -----

func.func @outputs_count(%a: f32) -> f32 attributes {graph.outputs = ["x", "y"]} {
  func.return %a : f32
}
// CHECK: graph.outputs has 2 names for 1 results

// -----

func.func @outputs_not_strings(%a: f32) -> f32 attributes {graph.outputs = [1 : i32]} {
  func.return %a : f32
}
// CHECK: graph.outputs must be an array of strings, got [1 : i32]

// -----

func.func @outputs_twice(%a: f32) -> (f32, f32) attributes {graph.outputs = ["x", "x"]} {
  func.return %a, %a : f32, f32
}
// CHECK: graph.outputs names an output twice: ['x', 'x']

// -----

func.func @result_names_disagree(%a: f32) -> (f32 {graph.name = "y"}) attributes {graph.outputs = ["x"]} {
  func.return %a : f32
}
// CHECK: the graph.name of the results (['y']) do not follow graph.outputs ['x']

// -----

func.func @histogram_no_bins(%src: !graph.image<f32>, %lo: f32) -> tensor<0xi32> {
  %sz = graph.size %src : !graph.image<f32>
  %h = graph.histogram %src, %sz, %lo, %lo bins 0 : !graph.image<f32> -> tensor<0xi32>
  func.return %h : tensor<0xi32>
}
// CHECK: graph.histogram needs at least 1 bin, got 0

// -----

func.func @histogram_of_ints(%src: !graph.image<i32>, %lo: f32) -> tensor<4xi32> {
  %sz = graph.size %src : !graph.image<i32>
  %h = graph.histogram %src, %sz, %lo, %lo bins 4 : !graph.image<i32> -> tensor<4xi32>
  func.return %h : tensor<4xi32>
}
// CHECK: graph.histogram counts f32 values, got i32

// -----

func.func @histogram_length(%src: !graph.image<f32>, %lo: f32) -> tensor<5xi32> {
  %sz = graph.size %src : !graph.image<f32>
  %h = graph.histogram %src, %sz, %lo, %lo bins 4 : !graph.image<f32> -> tensor<5xi32>
  func.return %h : tensor<5xi32>
}
// CHECK: graph.histogram result must be tensor<4xi32>, got tensor<5xi32>

// -----

func.func @volume_load_two_coords(%v: !graph.volume<f32>, %i: i32) -> !graph.volume<f32> {
  %sz = graph.size %v : !graph.volume<f32>
  %m = graph.map() : () -> !graph.volume_field<f32> {
    %l = graph.load %v[%i, %i] : !graph.volume<f32> -> f32
    graph.yield %l : f32
  }
  %c = graph.capture %m, %sz : !graph.volume_field<f32> -> !graph.volume<f32>
  func.return %c : !graph.volume<f32>
}
// CHECK: graph.load of a !graph.volume<f32> takes 3 coordinates

// -----

func.func @volume_capture_of_image_extent(%v: !graph.volume<f32>, %img: !graph.image<f32>) -> !graph.volume<f32> {
  %sz = graph.size %img : !graph.image<f32>
  %m = graph.map(%v) : (!graph.volume<f32>) -> !graph.volume_field<f32> {
  ^bb0(%a: f32):
    graph.yield %a : f32
  }
  %c = "graph.capture"(%m, %sz) : (!graph.volume_field<f32>, vector<2xi32>) -> !graph.volume<f32>
  func.return %c : !graph.volume<f32>
}
// CHECK: expected the extent type vector<3xi32>, got vector<2xi32>

// -----

func.func @capture_volume_field_as_image(%v: !graph.volume<f32>) -> !graph.image<f32> {
  %sz = graph.size %v : !graph.volume<f32>
  %m = graph.map(%v) : (!graph.volume<f32>) -> !graph.volume_field<f32> {
  ^bb0(%a: f32):
    graph.yield %a : f32
  }
  %c = "graph.capture"(%m, %sz) : (!graph.volume_field<f32>, vector<3xi32>) -> !graph.image<f32>
  func.return %c : !graph.image<f32>
}
// CHECK: graph.capture of a 3-D field gives a volume, of a 2-D one an image

// -----

func.func @sample_volume_at_vec2(%v: !graph.volume<f32>) -> !graph.field<f32> {
  %m = graph.map() : () -> !graph.field<f32> {
    %c = arith.constant dense<0.5> : vector<2xf32>
    %s = "graph.sample"(%v, %c) : (!graph.volume<f32>, vector<2xf32>) -> f32
    graph.yield %s : f32
  }
  func.return %m : !graph.field<f32>
}
// CHECK: expected the sample coordinate type vector<3xf32>, got vector<2xf32>

// -----

func.func @sample_image_at_vec3(%i: !graph.image<f32>) -> !graph.field<f32> {
  %m = graph.map() : () -> !graph.field<f32> {
    %c = arith.constant dense<0.5> : vector<3xf32>
    %s = "graph.sample"(%i, %c) : (!graph.image<f32>, vector<3xf32>) -> f32
    graph.yield %s : f32
  }
  func.return %m : !graph.field<f32>
}
// CHECK: expected the sample coordinate type vector<2xf32>, got vector<3xf32>
