"""export: torch → ONNX / quantized ONNX / TensorRT, artifact metadata, and the torch-free
runtime (issue 5). torch is imported only inside exporter functions; never by the runtime."""
