"""The C-style emitters: one base (naming, indentation, the op table) and two sets of spellings, GLSL and OpenCL C."""
