"""``edgekd export --format c``: a dependency-free C99 library for a student's whole decision
path (causal preprocessing, the INT8 network read from the QDQ ONNX artifact, softmax/argmax),
with a numpy integer reference that the C code matches bit for bit.

Modules: ``fixedpoint`` (the integer arithmetic both sides share), ``graph`` (QDQ ONNX →
integer layers), ``prep`` (fixed-point filters and input quantisation), ``reference`` (the numpy
reference), ``memory`` (static buffer plan), ``codegen`` (C sources), ``toolchain`` (host gcc,
arm-none-eabi, QEMU), ``pipeline`` (the export steps).
"""
